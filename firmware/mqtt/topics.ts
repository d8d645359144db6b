/**
 * Every MQTT topic the firmware uses, in one place, so the layout documented
 * in README.md and what the code publishes cannot drift apart.
 */

/** A topic segment from a name: lower case, [a-z0-9_-] only, never empty. */
export function slug(name: string, fallback = 'dvr'): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, 64);
  return s || fallback;
}

/** A segment taken from an id other services chose (channel, relay, disk): must not inject '/', '+' or '#'. */
export function segment(id: string): string {
  return slug(id, '_');
}

export class Topics {
  /** `<baseTopic>/<deviceId>` */
  readonly root: string;

  constructor(
    baseTopic: string,
    readonly deviceId: string,
    readonly discoveryPrefix: string,
  ) {
    this.root = `${baseTopic.replace(/\/+$/, '')}/${deviceId}`;
  }

  get availability(): string {
    return `${this.root}/availability`;
  }
  get events(): string {
    return `${this.root}/events`;
  }
  get response(): string {
    return `${this.root}/response`;
  }
  /** Home Assistant's birth and will messages. */
  get haStatus(): string {
    return `${this.discoveryPrefix}/status`;
  }

  alarm(input: string): string {
    return `${this.root}/alarm/${segment(input)}/state`;
  }
  /** Per-channel state: motion, tamper, video_loss, camera, recording. */
  channel(channel: string, what: 'motion' | 'tamper' | 'video_loss' | 'camera' | 'recording'): string {
    return `${this.root}/channel/${segment(channel)}/${what}/state`;
  }
  disk(disk: string): string {
    return `${this.root}/disk/${segment(disk)}/state`;
  }
  diskUsage(disk: string): string {
    return `${this.root}/disk/${segment(disk)}/usage`;
  }
  relay(relay: string): string {
    return `${this.root}/relay/${segment(relay)}/state`;
  }
  /** A Modbus I/O module's connection. */
  module(id: string): string {
    return `${this.root}/module/${segment(id)}/state`;
  }
  armed(): string {
    return `${this.root}/armed/state`;
  }
  service(name: string): string {
    return `${this.root}/service/${segment(name)}/state`;
  }

  relaySet(relay: string): string {
    return `${this.root}/relay/${segment(relay)}/set`;
  }
  presetSet(channel: string): string {
    return `${this.root}/ptz/${segment(channel)}/preset/set`;
  }
  armedSet(): string {
    return `${this.root}/armed/set`;
  }
  recordingSet(channel: string): string {
    return `${this.root}/channel/${segment(channel)}/recording/set`;
  }

  /** What we subscribe to for commands: every `.../set` under our root, at the depths we use. */
  get commandFilters(): string[] {
    return [`${this.root}/+/set`, `${this.root}/+/+/set`, `${this.root}/+/+/+/set`];
  }

  discovery(component: string, nodeId: string, objectId: string): string {
    return `${this.discoveryPrefix}/${component}/${nodeId}/${objectId}/config`;
  }
}
