// One SerialBus per RS-485 line for every service that has devices on it
// (PTZ domes, Modbus I/O modules): two services each opening the tty would
// interleave their frames and read each other's replies. The first lease
// opens the line and the bus; the last release closes both.
import { SerialBus, type BusClock, type BusLog } from './bus.js';
import { SerialLine, type Rs485Status, type SerialLineOptions } from './line.js';

export interface SharedLinesOptions {
  clock?: BusClock;
  log?: BusLog;
  /** Inter-frame gap of the bus on a line, in ms (default: the bus's). */
  gapMs?: (name: string) => number | undefined;
}

/** One user's hold on a line's bus. */
export interface BusLease {
  readonly name: string;
  readonly bus: SerialBus;
  /** The line's RS-485 status, as its first user opened it. */
  readonly rs485: Rs485Status;
  /** Gives the lease back (safe twice); the last one closes the bus and the line. */
  release(): Promise<void>;
}

interface Entry {
  users: number;
  opening: Promise<{ line: SerialLine; bus: SerialBus }>;
}

export class SharedLines {
  readonly #lines = new Map<string, Entry>();

  constructor(private readonly options: SharedLinesOptions = {}) {}

  /**
   * The bus on line `name`, opening it with `line` when nobody holds it yet
   * (later users' options are not applied: each device sets its own baud rate
   * on the bus). Rejects when the line cannot be opened; nothing is held then.
   */
  async acquire(name: string, line: SerialLineOptions): Promise<BusLease> {
    let entry = this.#lines.get(name);
    if (!entry) {
      const opening = this.#open(name, line);
      entry = { users: 0, opening };
      this.#lines.set(name, entry);
      const e = entry;
      // A failed open forgets the entry so the next acquire tries again.
      opening.catch(() => {
        if (this.#lines.get(name) === e) this.#lines.delete(name);
      });
    }
    entry.users++;
    let opened: { line: SerialLine; bus: SerialBus };
    try {
      opened = await entry.opening;
    } catch (e) {
      entry.users--;
      throw e;
    }
    const e = entry;
    let released = false;
    return {
      name,
      bus: opened.bus,
      rs485: opened.line.rs485,
      release: async () => {
        if (released) return;
        released = true;
        if (--e.users > 0) return;
        if (this.#lines.get(name) === e) this.#lines.delete(name);
        opened.bus.close();
        await opened.line.close();
      },
    };
  }

  /** Lines open now and how many users each has (for status and tests). */
  users(): Map<string, number> {
    return new Map([...this.#lines].map(([n, e]) => [n, e.users]));
  }

  async #open(name: string, options: SerialLineOptions): Promise<{ line: SerialLine; bus: SerialBus }> {
    const line = new SerialLine(options);
    try {
      await line.open();
    } catch (e) {
      await line.close();
      throw e;
    }
    const gapMs = this.options.gapMs?.(name);
    const bus = new SerialBus({ line, clock: this.options.clock, log: this.options.log, ...(gapMs !== undefined ? { gapMs } : {}) });
    return { line, bus };
  }
}


