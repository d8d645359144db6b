/**
 * How a bus event becomes MQTT messages: one on the event stream (every
 * event, never retained) and, for events that describe a state, one retained
 * message on that state's topic. Both carry the event's id, seq and time.
 */
import type { BusEvents } from '../core/bus.js';
// alarmModuleState joins BusEvents there, by augmentation.
import '../alarms/events.js';
import type { Topics } from './topics.js';

/** The bus events the MQTT service publishes (and queues while offline). */
export const PUBLISHED = ['alarm', 'motion', 'tamper', 'videoLoss', 'diskState', 'cameraState', 'alarmModuleState', 'serviceState', 'linkageMessage'] as const;
export type PublishedEvent = (typeof PUBLISHED)[number];

/** What the offline queue stores for one event: its bus name and payload. */
export type EventData = { [K in PublishedEvent]: { type: K } & BusEvents[K] }[PublishedEvent];

export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

const onOff = (b: boolean) => (b ? 'ON' : 'OFF');

/** The state topic and state fields of an event. */
function stateOf(d: EventData, topics: Topics): { topic: string; fields: Record<string, unknown> } {
  switch (d.type) {
    case 'alarm':
      return { topic: topics.alarm(d.input), fields: { state: onOff(d.active), source: d.source, input: d.input } };
    case 'motion':
      return { topic: topics.channel(d.channel, 'motion'), fields: { state: onOff(d.active), ...(d.cells !== undefined ? { cells: d.cells } : {}) } };
    case 'tamper':
      return { topic: topics.channel(d.channel, 'tamper'), fields: { state: onOff(d.active) } };
    case 'videoLoss':
      return { topic: topics.channel(d.channel, 'video_loss'), fields: { state: onOff(d.lost) } };
    case 'diskState':
      return { topic: topics.disk(d.disk), fields: { state: d.state, previous: d.previous, ...(d.detail ? { detail: d.detail } : {}) } };
    case 'cameraState':
      return { topic: topics.channel(d.channel, 'camera'), fields: { state: d.state, ...(d.detail ? { detail: d.detail } : {}) } };
    case 'alarmModuleState':
      // ON/OFF: a Home Assistant connectivity binary_sensor, on while the module answers.
      return { topic: topics.module(d.module), fields: { state: onOff(d.state === 'online'), bus: d.bus, address: d.address, ...(d.detail ? { detail: d.detail } : {}) } };
    case 'serviceState':
      return { topic: topics.service(d.service), fields: { state: d.state, ...(d.error ? { error: d.error } : {}) } };
    case 'linkageMessage':
      // The rule's own topic under the device; the topic is checked by the rule schema.
      return { topic: `${topics.root}/${d.topic}`, fields: { state: onOff(d.active), rule: d.rule, name: d.name, trigger: d.trigger, subject: d.subject } };
  }
}

export function messagesFor(rec: { seq: number; id: string; data: EventData }, topics: Topics): OutMessage[] {
  const { type, at, ...rest } = rec.data;
  // A bad time from a publisher must not make the event unsendable (toISOString throws on NaN).
  const time = Number.isFinite(at) && Math.abs(at) < 8.64e15 ? new Date(at).toISOString() : null;
  const stamp = { id: rec.id, seq: rec.seq, time, at };
  const state = stateOf(rec.data, topics);
  return [
    { topic: topics.events, payload: JSON.stringify({ ...stamp, type, device: topics.deviceId, ...rest }), retain: false },
    { topic: state.topic, payload: JSON.stringify({ ...state.fields, ...stamp }), retain: true },
  ];
}
