// What happened on the box, for the page's event list and the timeline's
// marks: alarms, motion, tamper, video loss, camera and disk states, storage
// alarms and linkage firings, taken from the event bus. The newest records
// (10,000 by default) are held in memory for queries; every record is also
// appended to <data>/events.jsonl (rotated once at 4 MiB), read back at
// start. Appends are batched and synced each second: a power cut can lose
// the last second of events, never the recordings they point at.
import { open, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusEvents, EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type {} from '../alarms/events.js'; // the alarm service's bus events

export type EventType = 'alarm' | 'motion' | 'tamper' | 'videoLoss' | 'camera' | 'disk' | 'storage' | 'linkage';
export const EVENT_TYPES: readonly EventType[] = ['alarm', 'motion', 'tamper', 'videoLoss', 'camera', 'disk', 'storage', 'linkage'];

export interface JournalEvent {
  /** Wall-clock ms. */
  at: number;
  type: EventType;
  /** The channel it concerns, null for the box's own (alarm inputs, disks). */
  channel: string | null;
  /** Start (true) or end (false) of a condition; null for a one-off. */
  active: boolean | null;
  text: string;
}

export interface EventQuery {
  from?: number;
  to?: number;
  types?: EventType[];
  /** Only events of these channels (and, with `boxEvents`, those of no channel). */
  channels?: string[];
  boxEvents?: boolean;
  limit?: number;
}

export interface EventJournalOptions {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  dir: string;
  keep?: number;
  maxFileBytes?: number;
}

export class EventJournal implements Service {
  readonly name = 'events';
  private events: JournalEvent[] = [];
  private pending: string[] = [];
  private fh?: FileHandle;
  private size = 0;
  private timer?: Timer;
  private offs: (() => void)[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly o: EventJournalOptions) {}

  private get file(): string {
    return join(this.o.dir, 'events.jsonl');
  }

  async start(): Promise<void> {
    const keep = this.o.keep ?? 10_000;
    for (const f of [join(this.o.dir, 'events.1.jsonl'), this.file]) {
      const text = await readFile(f, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          this.events.push(JSON.parse(line) as JournalEvent);
        } catch {
          // A torn last line from a power cut: skipped.
        }
      }
    }
    this.events = this.events.slice(-keep);
    this.fh = await open(this.file, 'a', 0o600);
    this.size = (await stat(this.file)).size;
    const on = <K extends keyof BusEvents>(name: K, f: (e: BusEvents[K]) => JournalEvent | null) => {
      const handler = (e: BusEvents[K]) => {
        const r = f(e);
        if (r) this.add(r);
      };
      this.offs.push(this.o.bus.on(name, handler));
    };
    on('alarm', (e) => ({ at: e.at, type: 'alarm', channel: null, active: e.active, text: `alarm input ${e.input} (${e.source}) ${e.active ? 'active' : 'normal'}` }));
    on('motion', (e) => ({ at: e.at, type: 'motion', channel: e.channel, active: e.active, text: e.active ? `motion${e.cells ? ` (${e.cells} cells)` : ''}` : 'motion ended' }));
    on('tamper', (e) => ({ at: e.at, type: 'tamper', channel: e.channel, active: e.active, text: e.active ? 'camera tampered with' : 'tamper ended' }));
    on('videoLoss', (e) => ({ at: e.at, type: 'videoLoss', channel: e.channel, active: e.lost, text: e.lost ? 'video lost' : 'video back' }));
    on('cameraState', (e) => ({ at: e.at, type: 'camera', channel: e.channel, active: null, text: `camera ${e.state}${e.detail ? `: ${e.detail}` : ''}` }));
    on('diskState', (e) => ({ at: e.at, type: 'disk', channel: null, active: null, text: `disk ${e.disk} ${e.state}${e.detail ? `: ${e.detail}` : ''}` }));
    on('storageAlarm', (e) => ({ at: e.at, type: 'storage', channel: e.channel ?? null, active: e.active, text: `${e.kind}: ${e.detail}` }));
    // An I/O module on the RS-485 bus that stops answering takes its inputs out of service: that is an alarm-panel event.
    on('alarmModuleState', (e) =>
      e.previous === null && e.state === 'online' ? null : { at: e.at, type: 'alarm', channel: null, active: e.state === 'offline', text: `I/O module ${e.module} (address ${e.address} on ${e.bus}) ${e.state}${e.detail ? `: ${e.detail}` : ''}` },
    );
    on('linkage', (e) => (e.phase === 'start' ? { at: e.at, type: 'linkage', channel: null, active: null, text: `rule ${e.rule} fired (${e.subject}): ${e.results.map((r) => `${r.action} ${r.target} ${r.ok ? 'ok' : `failed: ${r.detail}`}`).join('; ')}` } : null));
    const tick = () => {
      this.flush();
      this.timer = this.o.clock.setTimeout(tick, 1000);
      this.timer.unref?.();
    };
    tick();
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.flush();
    await this.writing;
    await this.fh?.close();
    this.fh = undefined;
  }

  /** Newest first. */
  query(q: EventQuery = {}): JournalEvent[] {
    const out: JournalEvent[] = [];
    const limit = Math.min(q.limit ?? 500, 5000);
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i]!;
      if (q.from !== undefined && e.at < q.from) continue;
      if (q.to !== undefined && e.at > q.to) continue;
      if (q.types && !q.types.includes(e.type)) continue;
      if (q.channels && !(e.channel === null ? q.boxEvents !== false : q.channels.includes(e.channel))) continue;
      out.push(e);
    }
    return out;
  }

  private add(e: JournalEvent): void {
    this.events.push(e);
    if (this.events.length > (this.o.keep ?? 10_000) * 1.1) this.events = this.events.slice(-(this.o.keep ?? 10_000));
    this.pending.push(JSON.stringify(e) + '\n');
  }

  private flush(): void {
    if (!this.pending.length || !this.fh) return;
    const text = this.pending.join('');
    this.pending = [];
    const fh = this.fh;
    this.writing = this.writing.then(async () => {
      try {
        if (this.size + text.length > (this.o.maxFileBytes ?? 4 * 1024 * 1024)) await this.rotate();
        await (this.fh ?? fh).write(text);
        await (this.fh ?? fh).datasync();
        this.size += Buffer.byteLength(text);
      } catch (e) {
        this.o.log.warn('events not written to disk', { error: (e as Error).message });
      }
    });
  }

  private async rotate(): Promise<void> {
    await this.fh?.close();
    await rename(this.file, join(this.o.dir, 'events.1.jsonl'));
    this.fh = await open(this.file, 'a', 0o600);
    this.size = 0;
  }
}
