// Pelco-D and Pelco-P frames. Layouts, bits and codes: see README.md
// ("Protocol facts") for the sources each one was checked against.

export type PelcoProtocol = 'd' | 'p';

export const D_SYNC = 0xff;
export const D_FRAME = 7;
export const P_STX = 0xa0;
export const P_ETX = 0xaf;
export const P_FRAME = 8;

/** Highest proportional pan/tilt speed in both protocols. */
export const MAX_SPEED = 0x3f;
/** Pan "turbo" byte: Pelco-D manual v2.1 uses 0xFF, Pelco-P uses 0x40. */
export const TURBO: Record<PelcoProtocol, number> = { d: 0xff, p: 0x40 };

/** Extended command codes (command 2 / data 2 byte, bit 0 set). */
export const EXT = {
  presetSet: 0x03,
  presetClear: 0x05,
  presetGoto: 0x07,
  auxOn: 0x09,
  auxOff: 0x0b,
  patternStart: 0x1f,
  patternStop: 0x21,
  patternRun: 0x23,
  zoomSpeed: 0x25,
  focusSpeed: 0x27,
  queryPan: 0x51,
  queryTilt: 0x53,
  queryZoom: 0x55,
  panPosition: 0x59,
  tiltPosition: 0x5b,
  zoomPosition: 0x5d,
} as const;

export interface Motion {
  pan?: 'left' | 'right';
  /** 0..0x3F; ignored without `pan`. */
  panSpeed?: number;
  /** Pan at the dome's fixed top speed instead of panSpeed. */
  turbo?: boolean;
  tilt?: 'up' | 'down';
  tiltSpeed?: number;
  zoom?: 'tele' | 'wide';
  focus?: 'near' | 'far';
  iris?: 'open' | 'close';
}

export type PelcoCommand =
  | ({ type: 'motion' } & Motion)
  | { type: 'preset-set' | 'preset-clear'; preset: number }
  /**
   * `speed` goes in data 1, which the Pelco documents leave 0; a few vendors'
   * domes read it as the travel speed. Omit it for a standard frame.
   */
  | { type: 'preset-goto'; preset: number; speed?: number }
  | { type: 'aux-on' | 'aux-off'; aux: number }
  | { type: 'pattern-start' | 'pattern-stop' | 'pattern-run'; pattern: number }
  | { type: 'zoom-speed' | 'focus-speed'; speed: number }
  | { type: 'auto-scan'; on: boolean }
  | { type: 'query-pan' | 'query-tilt' | 'query-zoom' }
  | { type: 'pan-position' | 'tilt-position' | 'zoom-position'; value: number }
  /** An extended command this codec has no name for (decode only). */
  | { type: 'extended'; code: number; data1: number; data2: number };

export interface PelcoFrame {
  protocol: PelcoProtocol;
  /** The dome's address as set on its switches (1-based in both protocols). */
  address: number;
  command: PelcoCommand;
  bytes: Buffer;
}

export class PelcoError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'PelcoError';
  }
}

const EXT_BY_TYPE: Record<string, number> = {
  'preset-set': EXT.presetSet,
  'preset-clear': EXT.presetClear,
  'preset-goto': EXT.presetGoto,
  'aux-on': EXT.auxOn,
  'aux-off': EXT.auxOff,
  'pattern-start': EXT.patternStart,
  'pattern-stop': EXT.patternStop,
  'pattern-run': EXT.patternRun,
  'zoom-speed': EXT.zoomSpeed,
  'focus-speed': EXT.focusSpeed,
  'query-pan': EXT.queryPan,
  'query-tilt': EXT.queryTilt,
  'query-zoom': EXT.queryZoom,
  'pan-position': EXT.panPosition,
  'tilt-position': EXT.tiltPosition,
  'zoom-position': EXT.zoomPosition,
};
const TYPE_BY_EXT = new Map(Object.entries(EXT_BY_TYPE).map(([k, v]) => [v, k]));

function int(label: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PelcoError(`${label} must be an integer ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Pelco-D checksum: bytes 2..6 (address..data 2) summed modulo 256. */
export function checksumD(frame: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 1; i <= 5; i++) sum += frame[i]!;
  return sum & 0xff;
}

/** Pelco-P checksum: XOR of bytes 1..7 (STX..ETX). */
export function checksumP(frame: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i <= 6; i++) x ^= frame[i]!;
  return x;
}

/** The wire address byte: Pelco-D sends the dome number, Pelco-P counts from 0. */
export function wireAddress(protocol: PelcoProtocol, address: number): number {
  return protocol === 'd' ? int('Pelco-D address', address, 1, 255) : int('Pelco-P address', address, 1, 256) - 1;
}

/** The four payload bytes (command 1, command 2, data 1, data 2). */
function payload(protocol: PelcoProtocol, c: PelcoCommand): [number, number, number, number] {
  switch (c.type) {
    case 'motion':
      return protocol === 'd' ? motionD(c) : motionP(c);
    case 'auto-scan':
      // D: bit 4 is auto/manual scan, its meaning chosen by the sense bit (7).
      // P: data 1 bit 5 is "auto scan on" and there is no off bit; a stop frame
      // (all zero) returns the dome to manual control.
      if (protocol === 'd') return [c.on ? 0x90 : 0x10, 0, 0, 0];
      return [c.on ? 0x20 : 0, 0, 0, 0];
    case 'preset-set':
    case 'preset-clear':
      return [0, EXT_BY_TYPE[c.type]!, 0, int('preset', c.preset, 1, 255)];
    case 'preset-goto':
      return [0, EXT.presetGoto, int('preset speed', c.speed ?? 0, 0, MAX_SPEED), int('preset', c.preset, 1, 255)];
    case 'aux-on':
    case 'aux-off':
      return [0, EXT_BY_TYPE[c.type]!, 0, int('aux', c.aux, 1, 8)];
    case 'pattern-start':
    case 'pattern-stop':
    case 'pattern-run':
      return [0, EXT_BY_TYPE[c.type]!, 0, int('pattern', c.pattern, 0, 255)];
    case 'zoom-speed':
    case 'focus-speed':
      return [0, EXT_BY_TYPE[c.type]!, 0, int('lens speed', c.speed, 0, 3)];
    case 'query-pan':
    case 'query-tilt':
    case 'query-zoom':
      return [0, EXT_BY_TYPE[c.type]!, 0, 0];
    case 'pan-position':
    case 'tilt-position':
    case 'zoom-position': {
      const v = int('position', c.value, 0, 0xffff);
      return [0, EXT_BY_TYPE[c.type]!, v >> 8, v & 0xff];
    }
    case 'extended':
      return [0, int('extended code', c.code, 1, 255) | 1, int('data 1', c.data1, 0, 255), int('data 2', c.data2, 0, 255)];
  }
}

function speeds(protocol: PelcoProtocol, m: Motion): [number, number] {
  const pan = m.pan ? (m.turbo ? TURBO[protocol] : int('pan speed', m.panSpeed ?? 0, 0, MAX_SPEED)) : 0;
  const tilt = m.tilt ? int('tilt speed', m.tiltSpeed ?? 0, 0, MAX_SPEED) : 0;
  return [pan, tilt];
}

// Command 2 bits 1..6 are the same in both protocols (right, left, up, down, tele, wide).
function directions(m: Motion): number {
  let b = 0;
  if (m.pan === 'right') b |= 0x02;
  if (m.pan === 'left') b |= 0x04;
  if (m.tilt === 'up') b |= 0x08;
  if (m.tilt === 'down') b |= 0x10;
  if (m.zoom === 'tele') b |= 0x20;
  if (m.zoom === 'wide') b |= 0x40;
  return b;
}

function motionD(m: Motion): [number, number, number, number] {
  let cmd1 = 0;
  if (m.focus === 'near') cmd1 |= 0x01;
  if (m.iris === 'open') cmd1 |= 0x02;
  if (m.iris === 'close') cmd1 |= 0x04;
  const cmd2 = directions(m) | (m.focus === 'far' ? 0x80 : 0);
  return [cmd1, cmd2, ...speeds('d', m)];
}

function motionP(m: Motion): [number, number, number, number] {
  let d1 = 0;
  if (m.focus === 'far') d1 |= 0x01;
  if (m.focus === 'near') d1 |= 0x02;
  if (m.iris === 'open') d1 |= 0x04;
  if (m.iris === 'close') d1 |= 0x08;
  return [d1, directions(m), ...speeds('p', m)];
}

/** One frame for the dome at `address` (1-based, as on its switches). */
export function encode(protocol: PelcoProtocol, address: number, command: PelcoCommand): Buffer {
  const a = wireAddress(protocol, address);
  const [b3, b4, b5, b6] = payload(protocol, command);
  if (protocol === 'd') {
    const f = Buffer.from([D_SYNC, a, b3, b4, b5, b6, 0]);
    f[6] = checksumD(f);
    return f;
  }
  const f = Buffer.from([P_STX, a, b3, b4, b5, b6, P_ETX, 0]);
  f[7] = checksumP(f);
  return f;
}

/** True if `bytes` starts with a complete, correctly checksummed frame of `protocol`. */
export function isFrame(protocol: PelcoProtocol, bytes: ArrayLike<number>): boolean {
  if (protocol === 'd') return bytes.length >= D_FRAME && bytes[0] === D_SYNC && checksumD(bytes) === bytes[6];
  return bytes.length >= P_FRAME && bytes[0] === P_STX && bytes[6] === P_ETX && checksumP(bytes) === bytes[7];
}

/** Decodes a complete frame (check with isFrame first); throws PelcoError if it is not one. */
export function decode(protocol: PelcoProtocol, bytes: Uint8Array): PelcoFrame {
  if (!isFrame(protocol, bytes)) throw new PelcoError(`not a valid Pelco-${protocol.toUpperCase()} frame`);
  const size = protocol === 'd' ? D_FRAME : P_FRAME;
  const f = Buffer.from(bytes.subarray(0, size));
  const address = protocol === 'd' ? f[1]! : f[1]! + 1;
  return { protocol, address, command: command(protocol, f[2]!, f[3]!, f[4]!, f[5]!), bytes: f };
}

// Only arguments encode() would send get a name; anything else (preset 0,
// aux 9) stays a raw 'extended' command, so whatever decode() names can be
// sent on unchanged (a protocol converter's round trip).
function command(protocol: PelcoProtocol, b3: number, b4: number, b5: number, b6: number): PelcoCommand {
  if (b4 & 1) {
    const type = TYPE_BY_EXT.get(b4);
    const raw: PelcoCommand = { type: 'extended', code: b4, data1: b5, data2: b6 };
    switch (type) {
      case 'preset-set':
      case 'preset-clear':
        return b6 >= 1 ? { type, preset: b6 } : raw;
      case 'preset-goto':
        if (b6 < 1 || b5 > MAX_SPEED) return raw;
        return b5 ? { type, preset: b6, speed: b5 } : { type, preset: b6 };
      case 'aux-on':
      case 'aux-off':
        return b6 >= 1 && b6 <= 8 ? { type, aux: b6 } : raw;
      case 'pattern-start':
      case 'pattern-stop':
      case 'pattern-run':
        return { type, pattern: b6 };
      case 'zoom-speed':
      case 'focus-speed':
        return b6 <= 3 ? { type, speed: b6 } : raw;
      case 'query-pan':
      case 'query-tilt':
      case 'query-zoom':
        return { type };
      case 'pan-position':
      case 'tilt-position':
      case 'zoom-position':
        return { type, value: (b5 << 8) | b6 };
      default:
        return raw;
    }
  }
  if (protocol === 'd' && b3 & 0x10) return { type: 'auto-scan', on: (b3 & 0x80) !== 0 };
  if (protocol === 'p' && b3 & 0x20) return { type: 'auto-scan', on: true };
  const m: { type: 'motion' } & Motion = { type: 'motion' };
  if (b4 & 0x02) m.pan = 'right';
  else if (b4 & 0x04) m.pan = 'left';
  if (m.pan) {
    if (b5 === TURBO[protocol]) m.turbo = true;
    else m.panSpeed = Math.min(b5, MAX_SPEED);
  }
  if (b4 & 0x08) m.tilt = 'up';
  else if (b4 & 0x10) m.tilt = 'down';
  if (m.tilt) m.tiltSpeed = Math.min(b6, MAX_SPEED);
  if (b4 & 0x20) m.zoom = 'tele';
  else if (b4 & 0x40) m.zoom = 'wide';
  const near = protocol === 'd' ? b3 & 0x01 : b3 & 0x02;
  const far = protocol === 'd' ? b4 & 0x80 : b3 & 0x01;
  if (near) m.focus = 'near';
  else if (far) m.focus = 'far';
  const open = protocol === 'd' ? b3 & 0x02 : b3 & 0x04;
  const close = protocol === 'd' ? b3 & 0x04 : b3 & 0x08;
  if (open) m.iris = 'open';
  else if (close) m.iris = 'close';
  return m;
}
