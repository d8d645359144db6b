import { EventEmitter } from 'node:events';

/**
 * The events services exchange. A service never imports another service to
 * tell it something: it emits here, and whoever cares subscribes. Later
 * issues add their events to this map, so every publisher and subscriber is
 * type-checked against one definition.
 */
export interface BusEvents {
  /** An alarm input changed state (GPIO, RS-485 module, ONVIF digital input). */
  alarm: { source: string; input: string; active: boolean; at: number };
  motion: { channel: string; active: boolean; at: number; cells?: number };
  tamper: { channel: string; active: boolean; at: number };
  videoLoss: { channel: string; lost: boolean; at: number };
  diskState: { disk: string; state: DiskState; previous: DiskState | null; at: number; detail?: string };
  cameraState: { channel: string; state: CameraState; at: number; detail?: string };
  serviceState: { service: string; state: ServiceState; at: number; error?: string };
  configChanged: { paths: string[]; at: number };
  /** A channel recorded nothing from `from` to `to` (µs since the epoch): the camera dropped, stalled or refused. */
  recordingGap: { channel: string; from: number; to: number; reason: string; at: number };
  /** The recording store reused a block: its recording [start, end] (µs) is gone. */
  storageOverwrite: { disk: string; block: number; channel: string; stream: string; start: number; end: number; at: number };
  /** The recording store deleted a block before it was needed (max age, by hand, repair). */
  storageDeletion: { disk: string; block: number; channel: string; stream: string; start: number; end: number; reason: StorageDeletionReason; at: number };
  /** An event lock of a channel's time range (µs) was added, removed or lapsed. */
  storageLock: { id: string; channel: string; start: number; end: number; action: 'added' | 'removed' | 'expired'; reason: string; expiresMs?: number; at: number };
  /** Recording cannot continue as configured: raised once, cleared (active false) when it can again. */
  storageAlarm: { kind: StorageAlarmKind; active: boolean; channel?: string; stream?: string; detail: string; at: number };
  /** A linkage rule started (its trigger became active) or ended, and what each action did. */
  linkage: { rule: string; subject: string; phase: 'start' | 'end'; results: LinkageActionResult[]; at: number };
  /** A linkage rule's popup action: the consoles (the web page's live view; the HDMI console when there is one) show `channel` alone for `seconds`. */
  consolePopup: { channel: string; seconds: number; rule: string; at: number };
  /** A linkage rule's MQTT action: a message for `<baseTopic>/<deviceId>/<topic>`. */
  linkageMessage: { topic: string; rule: string; name: string; trigger: string; subject: string; active: boolean; at: number };
}

export interface LinkageActionResult {
  action: string;
  target: string;
  ok: boolean;
  detail: string;
}

export type StorageDeletionReason = 'max-age' | 'manual' | 'repair';
/** all-locked: everything left is locked; full: stop-when-full reached; no-disk: no writable disk. */
export type StorageAlarmKind = 'all-locked' | 'full' | 'no-disk';

export const DISK_STATES = ['ok', 'unformatted', 'foreign', 'missing', 'read-only', 'failed', 'full'] as const;
export type DiskState = (typeof DISK_STATES)[number];
export type CameraState = 'connecting' | 'streaming' | 'reconnecting' | 'unauthorized' | 'unreachable' | 'disabled';
export type ServiceState = 'stopped' | 'starting' | 'running' | 'failed' | 'retrying' | 'waiting' | 'stopping';

export type BusListener<K extends keyof BusEvents> = (event: BusEvents[K]) => void;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (name: string, err: unknown) => void = () => {}) {
    // Many services subscribe to the same few events; the default cap of 10 is a false alarm here.
    this.emitter.setMaxListeners(100);
  }

  /** Delivers synchronously. A throwing listener is reported, never breaks the emitter or other listeners. */
  emit<K extends keyof BusEvents>(name: K, event: BusEvents[K]): void {
    for (const l of this.emitter.listeners(name)) {
      try {
        (l as BusListener<K>)(event);
      } catch (err) {
        this.onListenerError(name, err);
      }
    }
  }

  /** Returns the function that unsubscribes. */
  on<K extends keyof BusEvents>(name: K, listener: BusListener<K>): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  listenerCount(name: keyof BusEvents): number {
    return this.emitter.listenerCount(name);
  }
}
