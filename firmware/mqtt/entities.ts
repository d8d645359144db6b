/**
 * What the box offers to Home Assistant. Channels, alarm inputs, relays and
 * disks are built by other services, so they register here at run time and
 * the MQTT service turns each entry into a discovery config.
 */
import { segment, type Topics } from './topics.js';

/** Home Assistant binary_sensor device classes that fit an alarm input. */
export type AlarmDeviceClass = 'safety' | 'door' | 'window' | 'motion' | 'opening' | 'smoke' | 'gas' | 'moisture' | 'vibration' | 'tamper' | 'problem';

export type EntitySpec =
  | { kind: 'alarmInput'; input: string; name?: string; deviceClass?: AlarmDeviceClass }
  | { kind: 'motion' | 'tamper' | 'videoLoss' | 'camera' | 'recording'; channel: string; name?: string }
  | { kind: 'relay'; relay: string; name?: string }
  | { kind: 'ptzPreset'; channel: string; preset: number; name?: string }
  | { kind: 'disk'; disk: string; name?: string }
  | { kind: 'alarmModule'; module: string; name?: string }
  | { kind: 'armed'; name?: string };

export type EntityKind = EntitySpec['kind'];

/** A stable key of an entity: also its discovery object id. */
export function entityKey(e: EntitySpec): string {
  switch (e.kind) {
    case 'alarmInput':
      return `alarm_${segment(e.input)}`;
    case 'relay':
      return `relay_${segment(e.relay)}`;
    case 'ptzPreset':
      return `ptz_${segment(e.channel)}_preset_${e.preset}`;
    case 'disk':
      return `disk_${segment(e.disk)}`;
    case 'alarmModule':
      return `module_${segment(e.module)}`;
    case 'armed':
      return 'armed';
    case 'videoLoss':
      return `${segment(e.channel)}_video_loss`;
    default:
      return `${segment(e.channel)}_${e.kind}`;
  }
}

export class EntityRegistry {
  private readonly entities = new Map<string, EntitySpec>();
  private readonly listeners = new Set<(key: string, spec: EntitySpec | null) => void>();

  /** Adds or replaces an entity; returns the function that removes it. */
  register(spec: EntitySpec): () => void {
    if (spec.kind === 'ptzPreset' && (!Number.isInteger(spec.preset) || spec.preset < 1 || spec.preset > 255)) {
      throw new RangeError(`PTZ preset must be 1..255, got ${spec.preset}`);
    }
    const key = entityKey(spec);
    const stored = { ...spec };
    this.entities.set(key, stored);
    for (const l of this.listeners) l(key, stored);
    return () => {
      if (this.entities.get(key) !== stored) return;
      this.entities.delete(key);
      for (const l of this.listeners) l(key, null);
    };
  }

  all(): EntitySpec[] {
    return [...this.entities.values()];
  }

  has(predicate: (e: EntitySpec) => boolean): boolean {
    for (const e of this.entities.values()) if (predicate(e)) return true;
    return false;
  }

  /** Called with the spec on add/replace, null on removal. */
  onChange(listener: (key: string, spec: EntitySpec | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface DeviceInfo {
  /** Stable across renames: the base of every unique_id. */
  nodeId: string;
  name: string;
  model: string;
  manufacturer: string;
  swVersion: string;
}

export interface Discovery {
  component: 'binary_sensor' | 'switch' | 'button' | 'sensor';
  objectId: string;
  config: Record<string, unknown>;
}

const CAMERA_STATES = ['connecting', 'streaming', 'reconnecting', 'unauthorized', 'unreachable', 'disabled'];
const DISK_STATES = ['ok', 'unformatted', 'foreign', 'missing', 'read-only', 'failed', 'full'];

/**
 * The Home Assistant discovery configs of one entity (a disk has two: its
 * state and its usage). Abbreviations are avoided so the payloads stay
 * readable in MQTT Explorer.
 */
export function discoveryFor(e: EntitySpec, topics: Topics, device: DeviceInfo): Discovery[] {
  const key = entityKey(e);
  const common = (objectId: string, name: string) => ({
    name,
    unique_id: `${device.nodeId}_${objectId}`,
    availability_topic: topics.availability,
    payload_available: 'online',
    payload_not_available: 'offline',
    device: {
      identifiers: [device.nodeId],
      name: device.name,
      model: device.model,
      manufacturer: device.manufacturer,
      sw_version: device.swVersion,
    },
    origin: { name: 'dvr-firmware', sw_version: device.swVersion },
  });
  const binary = (name: string, stateTopic: string, deviceClass: string): Discovery => ({
    component: 'binary_sensor',
    objectId: key,
    config: { ...common(key, name), state_topic: stateTopic, value_template: '{{ value_json.state }}', payload_on: 'ON', payload_off: 'OFF', device_class: deviceClass },
  });
  const toggle = (name: string, stateTopic: string, commandTopic: string, icon: string): Discovery => ({
    component: 'switch',
    objectId: key,
    config: {
      ...common(key, name),
      state_topic: stateTopic,
      value_template: '{{ value_json.state }}',
      command_topic: commandTopic,
      payload_on: 'ON',
      payload_off: 'OFF',
      icon,
    },
  });
  switch (e.kind) {
    case 'alarmInput':
      return [binary(e.name ?? `Alarm ${e.input}`, topics.alarm(e.input), e.deviceClass ?? 'safety')];
    case 'motion':
      return [binary(e.name ?? `${e.channel} motion`, topics.channel(e.channel, 'motion'), 'motion')];
    case 'tamper':
      return [binary(e.name ?? `${e.channel} tamper`, topics.channel(e.channel, 'tamper'), 'tamper')];
    case 'videoLoss':
      return [binary(e.name ?? `${e.channel} video loss`, topics.channel(e.channel, 'video_loss'), 'problem')];
    case 'alarmModule':
      return [binary(e.name ?? `Module ${e.module}`, topics.module(e.module), 'connectivity')];
    case 'camera':
      return [
        {
          component: 'sensor',
          objectId: key,
          config: {
            ...common(key, e.name ?? `${e.channel} camera`),
            state_topic: topics.channel(e.channel, 'camera'),
            value_template: '{{ value_json.state }}',
            device_class: 'enum',
            options: CAMERA_STATES,
            icon: 'mdi:cctv',
          },
        },
      ];
    case 'recording':
      return [toggle(e.name ?? `${e.channel} manual recording`, topics.channel(e.channel, 'recording'), topics.recordingSet(e.channel), 'mdi:record-rec')];
    case 'relay':
      return [toggle(e.name ?? `Relay ${e.relay}`, topics.relay(e.relay), topics.relaySet(e.relay), 'mdi:electric-switch')];
    case 'armed':
      return [toggle(e.name ?? 'Armed', topics.armed(), topics.armedSet(), 'mdi:shield-lock')];
    case 'ptzPreset':
      return [
        {
          component: 'button',
          objectId: key,
          config: { ...common(key, e.name ?? `${e.channel} preset ${e.preset}`), command_topic: topics.presetSet(e.channel), payload_press: String(e.preset), icon: 'mdi:crosshairs-gps' },
        },
      ];
    case 'disk': {
      const label = e.name ?? `Disk ${e.disk}`;
      return [
        {
          component: 'sensor',
          objectId: key,
          config: {
            ...common(key, `${label} state`),
            state_topic: topics.disk(e.disk),
            value_template: '{{ value_json.state }}',
            device_class: 'enum',
            options: DISK_STATES,
            icon: 'mdi:harddisk',
          },
        },
        {
          component: 'sensor',
          objectId: `${key}_usage`,
          config: {
            ...common(`${key}_usage`, `${label} usage`),
            state_topic: topics.diskUsage(e.disk),
            value_template: '{{ value_json.used_percent }}',
            unit_of_measurement: '%',
            state_class: 'measurement',
            icon: 'mdi:harddisk',
          },
        },
      ];
    }
  }
}
