// A line request: the fd GPIO_V2_GET_LINE_IOCTL returned, for a set of lines
// of one chip. Values are logical (active-low already applied by the kernel).
import { POLLERR, POLLHUP, POLLIN, POLLNVAL } from '../libc/index.js';
import { LAYOUT } from './layout.js';
import { decodeEvents, decodeValues, encodeLineConfig, encodeValues, EVENT_SIZE, type LineEvent, type LineSettings } from './struct.js';
import { sys } from './sys.js';

const IO = LAYOUT.ioctls;

export class LineRequest {
  #fd: number;
  readonly offsets: readonly number[];
  #lines: readonly LineSettings[];
  private readonly eventBuf = Buffer.alloc(16 * EVENT_SIZE);

  constructor(
    fd: number,
    readonly chip: string,
    lines: readonly LineSettings[],
  ) {
    this.#fd = fd;
    this.#lines = lines;
    this.offsets = lines.map((l) => l.offset);
  }

  /** The request's fd (for a poller; -1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  get lines(): readonly LineSettings[] {
    return this.#lines;
  }

  private index(offset: number): number {
    const i = this.offsets.indexOf(offset);
    if (i < 0) throw new RangeError(`line ${offset} is not part of this request on ${this.chip}`);
    return i;
  }

  private ioctl(name: keyof typeof IO, buf: Buffer): void {
    if (this.#fd < 0) throw new Error(`line request on ${this.chip} is closed`);
    sys.ioctlBuf(this.#fd, IO[name], buf, { path: this.chip, name });
  }

  /** GPIO_V2_LINE_GET_VALUES_IOCTL: every line's logical value, by offset. */
  getValues(): Map<number, boolean> {
    const buf = encodeValues(new Map(this.offsets.map((_, i) => [i, false])));
    this.ioctl('GPIO_V2_LINE_GET_VALUES_IOCTL', buf);
    const bits = decodeValues(buf);
    return new Map(this.offsets.map((o, i) => [o, ((bits >> BigInt(i)) & 1n) === 1n]));
  }

  getValue(offset: number): boolean {
    const i = this.index(offset);
    return this.getValues().get(this.offsets[i])!;
  }

  /** GPIO_V2_LINE_SET_VALUES_IOCTL for the given output lines (offset -> logical value). */
  setValues(values: ReadonlyMap<number, boolean>): void {
    const byIndex = new Map<number, boolean>();
    for (const [offset, v] of values) byIndex.set(this.index(offset), v);
    this.ioctl('GPIO_V2_LINE_SET_VALUES_IOCTL', encodeValues(byIndex));
  }

  setValue(offset: number, value: boolean): void {
    this.setValues(new Map([[offset, value]]));
  }

  /** GPIO_V2_LINE_SET_CONFIG_IOCTL: new settings for the same lines (same offsets, same order). */
  reconfigure(lines: readonly LineSettings[]): void {
    if (lines.length !== this.offsets.length || lines.some((l, i) => l.offset !== this.offsets[i])) {
      throw new RangeError('reconfigure takes the same lines in the same order as the request');
    }
    this.ioctl('GPIO_V2_LINE_SET_CONFIG_IOCTL', encodeLineConfig(lines));
    this.#lines = lines;
  }

  /**
   * The edge events queued in the kernel now, without waiting: poll() with a
   * zero timeout, then one read() of up to 16 records. Throws when the chip is
   * gone (POLLERR/POLLHUP: the kernel unregistered the device).
   */
  readEvents(): LineEvent[] {
    if (this.#fd < 0) throw new Error(`line request on ${this.chip} is closed`);
    const fds = [{ fd: this.#fd, events: POLLIN, revents: 0 }];
    if (sys.poll(fds, 0) === 0) return [];
    const revents = fds[0].revents ?? 0;
    if (revents & POLLIN) {
      const n = sys.read(this.#fd, this.eventBuf, { path: this.chip, name: 'line events' });
      return decodeEvents(this.eventBuf, n);
    }
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) throw new Error(`line request on ${this.chip}: the device is gone (poll revents 0x${revents.toString(16)})`);
    return [];
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    sys.close(fd, { path: this.chip });
  }
}
