// How the linkage rules reach the rest of this box: the recording store's
// locks, the PTZ domes, the relays and buzzer, MQTT and the consoles. Capabilities the box lacks stay undefined,
// and the engine reports "this box has no ..." when a rule asks for them.
import { basename } from 'node:path';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { LinkageTargets } from './engine.js';

export interface BoxParts {
  bus: EventBus;
  clock: Clock;
  channels: () => string[];
  /** The recording store (µs ranges). */
  store?: { lock(req: { channel: string; start: number; end: number; reason: string; expiresMs?: number }): { id: string }; unlock(id: string): boolean };
  /** Starts and ends event recording (the channels' record gate). */
  recorder?: { record(channel: string, key: string, fromMs: number, untilMs: number | null, kind: 'motion' | 'alarm'): string };
  /** Takes and keeps a channel's picture. */
  snapshots?: { take(channel: string): Promise<{ file: string; bytes: number }> };
  ptz?: { domeIds(): string[]; dome(id: string): { gotoPreset(n: number): Promise<void> }; startTour(dome: string, tour: string): void };
  /** Relays and the buzzer (the alarm service). */
  alarms?: { outputs(): string[]; relay(name: string, on: boolean): Promise<void>; buzzer(pattern: 'continuous' | 'beep', on: boolean): Promise<void> };
  mqttEnabled: boolean;
}

export function boxTargets(p: BoxParts): LinkageTargets {
  const t: LinkageTargets = { channels: p.channels };
  if (p.store) {
    const store = p.store;
    t.lock = async (channel, fromMs, toMs, ttlMs, reason) =>
      store.lock({ channel, start: fromMs * 1000, end: toMs * 1000, reason: `rule ${reason}`, ...(ttlMs !== null ? { expiresMs: p.clock.now() + ttlMs } : {}) }).id;
    t.unlock = async (id) => void store.unlock(id);
  }
  if (p.recorder) {
    const recorder = p.recorder;
    // A schedule's M half hours take motion rules, its A half hours every other trigger.
    t.record = async (channel, fromMs, untilMs, key, trigger) => recorder.record(channel, key, fromMs, untilMs, trigger === 'motion' ? 'motion' : 'alarm');
  }
  if (p.snapshots) {
    const snapshots = p.snapshots;
    t.snapshot = async (channel) => {
      const s = await snapshots.take(channel);
      return `saved ${basename(s.file)} (${Math.ceil(s.bytes / 1024)} KiB)`;
    };
  }
  if (p.ptz) {
    const ptz = p.ptz;
    t.domes = () => ptz.domeIds();
    t.ptzPreset = (dome, preset) => ptz.dome(dome).gotoPreset(preset);
    t.ptzTour = async (dome, tour) => ptz.startTour(dome, tour);
  }
  if (p.alarms) {
    const alarms = p.alarms;
    t.outputs = () => alarms.outputs();
    t.relay = (output, on) => alarms.relay(output, on);
    t.buzzer = (pattern, on) => alarms.buzzer(pattern, on);
  }
  // Every box has a console: the web page's live view listens for these (and the HDMI console will).
  t.popup = async (channel, seconds, rule) => p.bus.emit('consolePopup', { channel, seconds, rule, at: p.clock.now() });
  if (p.mqttEnabled) {
    t.mqtt = async (topic, payload) =>
      p.bus.emit('linkageMessage', {
        topic,
        rule: String(payload.rule),
        name: String(payload.name),
        trigger: String(payload.trigger),
        subject: String(payload.subject),
        active: payload.active === true,
        at: p.clock.now(),
      });
  }
  return t;
}
