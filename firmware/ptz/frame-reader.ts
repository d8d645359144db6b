// Turns a byte stream from the bus into Pelco frames. Serial lines deliver
// frames split across reads, glued together, cut short by a dome rebooting,
// or mixed with line noise; the reader keeps only whole, checksummed frames
// and resynchronises on the next sync byte after anything else.
import { D_FRAME, D_SYNC, P_FRAME, P_STX, decode, isFrame, type PelcoFrame, type PelcoProtocol } from './pelco.js';

export interface FrameReaderStats {
  frames: number;
  /** Bytes thrown away: noise, truncated frames, bad checksums. */
  discarded: number;
}

export class FrameReader {
  #buf = Buffer.alloc(0);
  readonly stats: FrameReaderStats = { frames: 0, discarded: 0 };

  /** 'auto' accepts both protocols, telling them apart by the first byte. */
  constructor(readonly protocol: PelcoProtocol | 'auto' = 'auto') {}

  #isSync(b: number): boolean {
    if (this.protocol === 'd') return b === D_SYNC;
    if (this.protocol === 'p') return b === P_STX;
    return b === D_SYNC || b === P_STX;
  }

  /** Feeds received bytes; returns the frames they completed, oldest first. */
  push(chunk: Uint8Array): PelcoFrame[] {
    // Never holds more than one partial frame (< 8 bytes), so this stays small.
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : Buffer.from(chunk);
    const out: PelcoFrame[] = [];
    let i = 0;
    while (i < this.#buf.length) {
      const b = this.#buf[i]!;
      if (!this.#isSync(b)) {
        i++;
        this.stats.discarded++;
        continue;
      }
      const protocol: PelcoProtocol = b === D_SYNC ? 'd' : 'p';
      const size = protocol === 'd' ? D_FRAME : P_FRAME;
      if (this.#buf.length - i < size) break; // wait for the rest
      const candidate = this.#buf.subarray(i, i + size);
      if (isFrame(protocol, candidate)) {
        out.push(decode(protocol, candidate));
        this.stats.frames++;
        i += size;
      } else {
        // Not a frame here: the sync byte was noise or a frame's tail. Slide by
        // one so a real frame starting inside this window is still found.
        i++;
        this.stats.discarded++;
      }
    }
    this.#buf = Buffer.from(this.#buf.subarray(i));
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
  }
}

export type PositionAxis = 'pan' | 'tilt' | 'zoom';

/**
 * A bus ReplyParser for the answer to a position query: skips everything but
 * a valid response of the right kind from the right dome.
 */
export class PositionReplyParser {
  readonly #reader: FrameReader;
  readonly #type: string;

  constructor(
    readonly protocol: PelcoProtocol,
    readonly address: number,
    readonly axis: PositionAxis,
  ) {
    this.#reader = new FrameReader(protocol);
    this.#type = `${axis}-position`;
  }

  push(chunk: Uint8Array): number | undefined {
    for (const f of this.#reader.push(chunk)) {
      const c = f.command;
      if (f.address === this.address && c.type === this.#type && 'value' in c) return c.value;
    }
    return undefined;
  }

  get discarded(): number {
    return this.#reader.stats.discarded;
  }
}
