import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { SnapshotSource } from './store.js';

export interface LivePicture {
  jpeg: Uint8Array;
  /** When the picture came back from the channel (ms since the epoch). */
  at: number;
}

export interface LiveSnapshotsOptions {
  source: SnapshotSource;
  clock: Clock;
  log: Logger;
  /** A picture (or a failure) this young is given again instead of asking the channel anew (default 800 ms). */
  maxAgeMs?: number;
}

interface Entry {
  /** null while the channel is being asked. */
  settledAt: number | null;
  result: Promise<LivePicture>;
}

/**
 * Pictures of a channel for viewing (the page's fallback for streams the
 * browser cannot play), kept in memory only: they are not evidence, so they
 * never reach the snapshot store's files. Viewers asking at the same time
 * share one request to the camera, and a picture younger than `maxAgeMs` is
 * reused, so a grid watched from ten browsers asks each camera about once a
 * second. A failure is shared the same way: a camera that is down is not
 * hammered by every viewer either.
 */
export class LiveSnapshots {
  private readonly recent = new Map<string, Entry>();
  private readonly failing = new Set<string>();
  private readonly maxAgeMs: number;

  constructor(private readonly o: LiveSnapshotsOptions) {
    this.maxAgeMs = o.maxAgeMs ?? 800;
  }

  /** The channel's picture; the caller has checked that the channel exists (ids come from the config). */
  take(channel: string): Promise<LivePicture> {
    const now = this.o.clock.now();
    // Only the latest picture of each channel is held, and only while it is fresh.
    for (const [c, e] of this.recent) if (e.settledAt !== null && now - e.settledAt >= this.maxAgeMs) this.recent.delete(c);
    const known = this.recent.get(channel);
    if (known) return known.result;
    // The callbacks run later, once `entry` below exists; a source that throws at once fails the same way.
    const result = Promise.resolve(channel).then((c) => this.o.source(c)).then(
      (jpeg) => {
        entry.settledAt = this.o.clock.now();
        if (this.failing.delete(channel)) this.o.log.info('live snapshots of the channel work again', { channel });
        return { jpeg, at: entry.settledAt };
      },
      (err: unknown) => {
        entry.settledAt = this.o.clock.now();
        // Once per outage, not once per viewer and second.
        if (!this.failing.has(channel)) this.o.log.warn('live snapshot failed', { channel, error: err instanceof Error ? err.message : String(err) });
        this.failing.add(channel);
        throw err;
      },
    );
    const entry: Entry = { settledAt: null, result };
    this.recent.set(channel, entry);
    return result;
  }
}
