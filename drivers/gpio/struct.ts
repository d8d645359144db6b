// Encoding and decoding of the uAPI v2 structs, pure functions over Buffers
// laid out by layout.ts (no koffi here, so the host tests exercise every byte).
import { LAYOUT } from './layout.js';

const S = LAYOUT.structs;
const C = LAYOUT.constants;

export type Direction = 'input' | 'output';
export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type Bias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
export type Drive = 'push-pull' | 'open-drain' | 'open-source';

/** How one line of a request is set up. */
export interface LineSettings {
  offset: number;
  direction: Direction;
  activeLow?: boolean;
  bias?: Bias;
  /** Inputs only: which edges produce events. */
  edge?: Edge;
  /** Inputs only: debounce period in microseconds (0: none). The kernel debounces in software when the chip cannot. */
  debounceUs?: number;
  /** Outputs only. */
  drive?: Drive;
  /** Outputs only: the logical value the line takes when requested. */
  value?: boolean;
  /** Timestamps from CLOCK_REALTIME instead of CLOCK_MONOTONIC. */
  realtime?: boolean;
}

export interface ChipInfo {
  name: string;
  label: string;
  lines: number;
}

export interface LineInfo {
  offset: number;
  name: string;
  consumer: string;
  used: boolean;
  direction: Direction;
  activeLow: boolean;
  bias: Bias;
  edge: Edge;
  drive: Drive;
  realtime: boolean;
  debounceUs: number;
  flags: bigint;
}

/** One struct gpio_v2_line_event. */
export interface LineEvent {
  /** CLOCK_MONOTONIC (or REALTIME when asked for) nanoseconds. */
  timestampNs: bigint;
  edge: 'rising' | 'falling';
  offset: number;
  /** Sequence number among all lines of the request. */
  seqno: number;
  /** Sequence number of this line. */
  lineSeqno: number;
}

export const EVENT_SIZE = S.gpio_v2_line_event.size;

function cstring(buf: Buffer, at: number, size: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 || end > at + size ? at + size : end);
}

function writeCstring(buf: Buffer, at: number, size: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length >= size) throw new RangeError(`"${text}" is longer than ${size - 1} bytes`);
  bytes.copy(buf, at);
}

export function decodeChipInfo(buf: Buffer): ChipInfo {
  const [nameAt, nameSize] = S.gpiochip_info.fields.name;
  const [labelAt, labelSize] = S.gpiochip_info.fields.label;
  return {
    name: cstring(buf, nameAt, nameSize),
    label: cstring(buf, labelAt, labelSize),
    lines: buf.readUInt32LE(S.gpiochip_info.fields.lines[0]),
  };
}

/** The flags word of one line's settings. */
export function lineFlags(s: LineSettings): bigint {
  let f = 0;
  if (s.activeLow) f |= C.GPIO_V2_LINE_FLAG_ACTIVE_LOW;
  if (s.realtime) f |= C.GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME;
  if (s.direction === 'input') {
    f |= C.GPIO_V2_LINE_FLAG_INPUT;
    const edge = s.edge ?? 'none';
    if (edge === 'rising' || edge === 'both') f |= C.GPIO_V2_LINE_FLAG_EDGE_RISING;
    if (edge === 'falling' || edge === 'both') f |= C.GPIO_V2_LINE_FLAG_EDGE_FALLING;
  } else {
    f |= C.GPIO_V2_LINE_FLAG_OUTPUT;
    if (s.drive === 'open-drain') f |= C.GPIO_V2_LINE_FLAG_OPEN_DRAIN;
    if (s.drive === 'open-source') f |= C.GPIO_V2_LINE_FLAG_OPEN_SOURCE;
  }
  if (s.bias === 'pull-up') f |= C.GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
  if (s.bias === 'pull-down') f |= C.GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
  if (s.bias === 'disabled') f |= C.GPIO_V2_LINE_FLAG_BIAS_DISABLED;
  return BigInt(f);
}

/** A bit mask over the request's line indexes. */
const bit = (i: number) => 1n << BigInt(i);

/**
 * struct gpio_v2_line_config for `lines` (in request order): the most common
 * flags become the default, every other flags value, each debounce period and
 * the output values become attributes masked to the lines they apply to. At
 * most GPIO_V2_LINE_NUM_ATTRS_MAX attributes fit: a RangeError says so.
 */
export function encodeLineConfig(lines: readonly LineSettings[], buf = Buffer.alloc(S.gpio_v2_line_config.size), at = 0): Buffer {
  const flagGroups = new Map<bigint, bigint>();
  const debounce = new Map<number, bigint>();
  let outMask = 0n;
  let outValues = 0n;
  lines.forEach((l, i) => {
    const f = lineFlags(l);
    flagGroups.set(f, (flagGroups.get(f) ?? 0n) | bit(i));
    const us = l.direction === 'input' ? (l.debounceUs ?? 0) : 0;
    if (!Number.isInteger(us) || us < 0 || us > 0xffffffff) throw new RangeError(`line ${l.offset}: debounce ${us} µs out of range`);
    if (us > 0) debounce.set(us, (debounce.get(us) ?? 0n) | bit(i));
    if (l.direction === 'output') {
      outMask |= bit(i);
      if (l.value) outValues |= bit(i);
    }
  });
  let common = 0n;
  let commonCount = -1;
  for (const [f, mask] of flagGroups) {
    const n = mask.toString(2).replace(/0/g, '').length;
    if (n > commonCount) [common, commonCount] = [f, n];
  }
  const attrs: { id: number; value: bigint; mask: bigint; u32?: boolean }[] = [];
  for (const [f, mask] of flagGroups) if (f !== common) attrs.push({ id: C.GPIO_V2_LINE_ATTR_ID_FLAGS, value: f, mask });
  if (outMask) attrs.push({ id: C.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, value: outValues, mask: outMask });
  for (const [us, mask] of debounce) attrs.push({ id: C.GPIO_V2_LINE_ATTR_ID_DEBOUNCE, value: BigInt(us), mask, u32: true });
  if (attrs.length > C.GPIO_V2_LINE_NUM_ATTRS_MAX) {
    throw new RangeError(`line configuration needs ${attrs.length} attributes; the kernel takes at most ${C.GPIO_V2_LINE_NUM_ATTRS_MAX}`);
  }
  const cfg = S.gpio_v2_line_config.fields;
  buf.writeBigUInt64LE(common, at + cfg.flags[0]);
  buf.writeUInt32LE(attrs.length, at + cfg.num_attrs[0]);
  const ca = S.gpio_v2_line_config_attribute;
  const a = S.gpio_v2_line_attribute.fields;
  attrs.forEach((x, i) => {
    const base = at + cfg.attrs[0] + i * ca.size;
    buf.writeUInt32LE(x.id, base + ca.fields.attr[0] + a.id[0]);
    if (x.u32) buf.writeUInt32LE(Number(x.value), base + ca.fields.attr[0] + a.debounce_period_us[0]);
    else buf.writeBigUInt64LE(x.value, base + ca.fields.attr[0] + a.flags[0]);
    buf.writeBigUInt64LE(x.mask, base + ca.fields.mask[0]);
  });
  return buf;
}

/** struct gpio_v2_line_request asking for `lines` under the name `consumer`. */
export function encodeLineRequest(lines: readonly LineSettings[], consumer: string, eventBufferSize = 0): Buffer {
  if (lines.length === 0 || lines.length > C.GPIO_V2_LINES_MAX) {
    throw new RangeError(`a request takes 1 to ${C.GPIO_V2_LINES_MAX} lines, got ${lines.length}`);
  }
  const seen = new Set<number>();
  const r = S.gpio_v2_line_request.fields;
  const buf = Buffer.alloc(S.gpio_v2_line_request.size);
  lines.forEach((l, i) => {
    if (!Number.isInteger(l.offset) || l.offset < 0 || l.offset > 0xffffffff) throw new RangeError(`bad line offset ${l.offset}`);
    if (seen.has(l.offset)) throw new RangeError(`line ${l.offset} is listed twice`);
    seen.add(l.offset);
    buf.writeUInt32LE(l.offset, r.offsets[0] + i * 4);
  });
  writeCstring(buf, r.consumer[0], r.consumer[1], consumer);
  encodeLineConfig(lines, buf, r.config[0]);
  buf.writeUInt32LE(lines.length, r.num_lines[0]);
  buf.writeUInt32LE(eventBufferSize, r.event_buffer_size[0]);
  return buf;
}

/** The fd the kernel wrote back into a line request. */
export function requestFd(buf: Buffer): number {
  return buf.readInt32LE(S.gpio_v2_line_request.fields.fd[0]);
}

/** struct gpio_v2_line_info asking about `offset`. */
export function encodeLineInfoQuery(offset: number): Buffer {
  const buf = Buffer.alloc(S.gpio_v2_line_info.size);
  buf.writeUInt32LE(offset, S.gpio_v2_line_info.fields.offset[0]);
  return buf;
}

export function decodeLineInfo(buf: Buffer): LineInfo {
  const f = S.gpio_v2_line_info.fields;
  const flags = buf.readBigUInt64LE(f.flags[0]);
  const has = (flag: number) => (flags & BigInt(flag)) !== 0n;
  let debounceUs = 0;
  const n = Math.min(buf.readUInt32LE(f.num_attrs[0]), C.GPIO_V2_LINE_NUM_ATTRS_MAX);
  const a = S.gpio_v2_line_attribute;
  for (let i = 0; i < n; i++) {
    const base = f.attrs[0] + i * a.size;
    if (buf.readUInt32LE(base + a.fields.id[0]) === C.GPIO_V2_LINE_ATTR_ID_DEBOUNCE) {
      debounceUs = buf.readUInt32LE(base + a.fields.debounce_period_us[0]);
    }
  }
  const rising = has(C.GPIO_V2_LINE_FLAG_EDGE_RISING);
  const falling = has(C.GPIO_V2_LINE_FLAG_EDGE_FALLING);
  return {
    offset: buf.readUInt32LE(f.offset[0]),
    name: cstring(buf, f.name[0], f.name[1]),
    consumer: cstring(buf, f.consumer[0], f.consumer[1]),
    used: has(C.GPIO_V2_LINE_FLAG_USED),
    direction: has(C.GPIO_V2_LINE_FLAG_OUTPUT) ? 'output' : 'input',
    activeLow: has(C.GPIO_V2_LINE_FLAG_ACTIVE_LOW),
    bias: has(C.GPIO_V2_LINE_FLAG_BIAS_PULL_UP)
      ? 'pull-up'
      : has(C.GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN)
        ? 'pull-down'
        : has(C.GPIO_V2_LINE_FLAG_BIAS_DISABLED)
          ? 'disabled'
          : 'as-is',
    edge: rising && falling ? 'both' : rising ? 'rising' : falling ? 'falling' : 'none',
    drive: has(C.GPIO_V2_LINE_FLAG_OPEN_DRAIN) ? 'open-drain' : has(C.GPIO_V2_LINE_FLAG_OPEN_SOURCE) ? 'open-source' : 'push-pull',
    realtime: has(C.GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME),
    debounceUs,
    flags,
  };
}

/** struct gpio_v2_line_values for the lines at `indexes` (request order) with their values. */
export function encodeValues(values: ReadonlyMap<number, boolean>): Buffer {
  const buf = Buffer.alloc(S.gpio_v2_line_values.size);
  let bits = 0n;
  let mask = 0n;
  for (const [i, v] of values) {
    if (!Number.isInteger(i) || i < 0 || i >= C.GPIO_V2_LINES_MAX) throw new RangeError(`bad line index ${i}`);
    mask |= bit(i);
    if (v) bits |= bit(i);
  }
  buf.writeBigUInt64LE(bits, S.gpio_v2_line_values.fields.bits[0]);
  buf.writeBigUInt64LE(mask, S.gpio_v2_line_values.fields.mask[0]);
  return buf;
}

export function decodeValues(buf: Buffer): bigint {
  return buf.readBigUInt64LE(S.gpio_v2_line_values.fields.bits[0]);
}

export class GpioEventError extends Error {
  override name = 'GpioEventError';
}

/**
 * The struct gpio_v2_line_event records in `buf[0, length)`. The kernel only
 * ever returns whole records; anything else (a short read, an unknown event id)
 * is a GpioEventError, never a half-decoded event.
 */
export function decodeEvents(buf: Buffer, length = buf.length): LineEvent[] {
  if (length % EVENT_SIZE !== 0) throw new GpioEventError(`${length} bytes is not a whole number of ${EVENT_SIZE}-byte line events`);
  const f = S.gpio_v2_line_event.fields;
  const out: LineEvent[] = [];
  for (let at = 0; at < length; at += EVENT_SIZE) {
    const id = buf.readUInt32LE(at + f.id[0]);
    let edge: LineEvent['edge'];
    if (id === C.GPIO_V2_LINE_EVENT_RISING_EDGE) edge = 'rising';
    else if (id === C.GPIO_V2_LINE_EVENT_FALLING_EDGE) edge = 'falling';
    else throw new GpioEventError(`unknown line event id ${id}`);
    out.push({
      timestampNs: buf.readBigUInt64LE(at + f.timestamp_ns[0]),
      edge,
      offset: buf.readUInt32LE(at + f.offset[0]),
      seqno: buf.readUInt32LE(at + f.seqno[0]),
      lineSeqno: buf.readUInt32LE(at + f.line_seqno[0]),
    });
  }
  return out;
}

/** The bytes of one event, as the kernel writes them (for stand-ins and tests). */
export function encodeEvent(e: LineEvent): Buffer {
  const f = S.gpio_v2_line_event.fields;
  const buf = Buffer.alloc(EVENT_SIZE);
  buf.writeBigUInt64LE(e.timestampNs, f.timestamp_ns[0]);
  buf.writeUInt32LE(e.edge === 'rising' ? C.GPIO_V2_LINE_EVENT_RISING_EDGE : C.GPIO_V2_LINE_EVENT_FALLING_EDGE, f.id[0]);
  buf.writeUInt32LE(e.offset, f.offset[0]);
  buf.writeUInt32LE(e.seqno, f.seqno[0]);
  buf.writeUInt32LE(e.lineSeqno, f.line_seqno[0]);
  return buf;
}

