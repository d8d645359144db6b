// One GPIO chip character device (/dev/gpiochipN): chip and line info, and
// line requests. Every call is one ioctl on the chip's fd.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { O_CLOEXEC, O_RDWR } from '../libc/index.js';
import { LAYOUT } from './layout.js';
import { LineRequest } from './request.js';
import {
  decodeChipInfo,
  decodeLineInfo,
  encodeLineInfoQuery,
  encodeLineRequest,
  requestFd,
  type ChipInfo,
  type LineInfo,
  type LineSettings,
} from './struct.js';
import { sys } from './sys.js';

const IO = LAYOUT.ioctls;

export interface RequestOptions {
  /** Shown as the lines' consumer (gpioinfo, /sys/kernel/debug/gpio); at most 31 bytes. */
  consumer: string;
  /** Kernel event buffer per request (0: the kernel's default, 16 events per line). */
  eventBufferSize?: number;
}

export class GpioChip {
  private fd: number;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens the chip (SysError ENOENT when it does not exist). */
  static open(path: string): GpioChip {
    return new GpioChip(path, sys.open(path, O_RDWR | O_CLOEXEC));
  }

  private ioctl(name: keyof typeof IO, buf: Buffer): void {
    if (this.fd < 0) throw new Error(`${this.path} is closed`);
    sys.ioctlBuf(this.fd, IO[name], buf, { path: this.path, name });
  }

  /** GPIO_GET_CHIPINFO_IOCTL: { name: 'gpiochip0', label, lines }. */
  info(): ChipInfo {
    const buf = Buffer.alloc(LAYOUT.structs.gpiochip_info.size);
    this.ioctl('GPIO_GET_CHIPINFO_IOCTL', buf);
    return decodeChipInfo(buf);
  }

  /** GPIO_V2_GET_LINEINFO_IOCTL for one line. */
  lineInfo(offset: number): LineInfo {
    const buf = encodeLineInfoQuery(offset);
    this.ioctl('GPIO_V2_GET_LINEINFO_IOCTL', buf);
    return decodeLineInfo(buf);
  }

  /** Every line of the chip. */
  lines(): LineInfo[] {
    const n = this.info().lines;
    return Array.from({ length: n }, (_, i) => this.lineInfo(i));
  }

  /** The first line named `name`, or null. */
  findLine(name: string): LineInfo | null {
    return this.lines().find((l) => l.name === name) ?? null;
  }

  /**
   * GPIO_V2_GET_LINE_IOCTL: request `lines` together. The returned request
   * owns its own fd and stays valid after the chip is closed.
   */
  request(lines: readonly LineSettings[], opts: RequestOptions): LineRequest {
    const buf = encodeLineRequest(lines, opts.consumer, opts.eventBufferSize ?? 0);
    this.ioctl('GPIO_V2_GET_LINE_IOCTL', buf);
    return new LineRequest(requestFd(buf), this.path, lines);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    sys.close(fd, { path: this.path });
  }
}

/** The chips in `dir` (gpiochipN character devices), in number order. */
export function listChips(dir = '/dev'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  return names.sort((a, b) => Number(a.slice(8)) - Number(b.slice(8))).map((n) => join(dir, n));
}

/** Where the line named `name` is: the first match over `chips`, or null. */
export function findLine(name: string, chips: readonly string[] = listChips()): { chip: string; info: LineInfo } | null {
  for (const path of chips) {
    const chip = GpioChip.open(path);
    try {
      const info = chip.findLine(name);
      if (info) return { chip: path, info };
    } finally {
      chip.close();
    }
  }
  return null;
}
