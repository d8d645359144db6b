// Every Pelco-D and Pelco-P command the codec supports, as frames worked out
// by hand from the protocol documents (sources in firmware/ptz/README.md),
// the arithmetic beside each. Shared by pelco.test.ts (the codec alone) and
// pty-bytes.test.ts (the same frames through the serial line to the dome
// simulator), so both check against one table that no code computed.
//   Pelco-D: FF addr cmd1 cmd2 data1 data2 sum, sum = (addr+cmd1+cmd2+data1+data2) mod 256
//   Pelco-P: A0 addr-1 data1 data2 data3 data4 AF xor, xor = A0^addr^d1^d2^d3^d4^AF
//            and since A0^AF = 0F, xor = 0F^addr^d1^d2^d3^d4.
import type { PelcoCommand, PelcoProtocol } from '../../../firmware/ptz/index.js';

export const bytes = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

/** One command at address 1 in both protocols. */
export interface HandFrame {
  name: string;
  cmd: PelcoCommand;
  d: string;
  p: string;
}

/** A frame of one protocol only, or at another address. */
export interface HandFrameOne {
  name: string;
  protocol: PelcoProtocol;
  address: number;
  cmd: PelcoCommand;
  hex: string;
}

export const handFrames: HandFrame[] = [
  // stop: all payload zero. D sum 01. P 0F^00 = 0F.
  { name: 'stop', cmd: { type: 'motion' }, d: 'ff 01 00 00 00 00 01', p: 'a0 00 00 00 00 00 af 0f' },
  // right = cmd2 bit 1 (02), pan speed 20. D 01+02+20 = 23 (also the doc example). P 0F^02^20 = 2D.
  {
    name: 'pan right at 0x20',
    cmd: { type: 'motion', pan: 'right', panSpeed: 0x20 },
    d: 'ff 01 00 02 20 00 23',
    p: 'a0 00 00 02 20 00 af 2d',
  },
  // left = bit 2 (04), speed 3F. D 01+04+3F = 44. P 0F^04^3F = 34.
  {
    name: 'pan left at 0x3F',
    cmd: { type: 'motion', pan: 'left', panSpeed: 0x3f },
    d: 'ff 01 00 04 3f 00 44',
    p: 'a0 00 00 04 3f 00 af 34',
  },
  // up = bit 3 (08), tilt speed 3F in data 2. D 01+08+3F = 48. P 0F^08^3F = 38.
  {
    name: 'tilt up at 0x3F',
    cmd: { type: 'motion', tilt: 'up', tiltSpeed: 0x3f },
    d: 'ff 01 00 08 00 3f 48',
    p: 'a0 00 00 08 00 3f af 38',
  },
  // down = bit 4 (10). D 01+10+20 = 31. P 0F^10^20 = 3F.
  {
    name: 'tilt down at 0x20',
    cmd: { type: 'motion', tilt: 'down', tiltSpeed: 0x20 },
    d: 'ff 01 00 10 00 20 31',
    p: 'a0 00 00 10 00 20 af 3f',
  },
  // up-left = 08|04 = 0C, pan 10, tilt 08. D 01+0C+10+08 = 25. P 0F^0C = 03, ^10 = 13, ^08 = 1B.
  {
    name: 'up-left',
    cmd: { type: 'motion', pan: 'left', panSpeed: 0x10, tilt: 'up', tiltSpeed: 0x08 },
    d: 'ff 01 00 0c 10 08 25',
    p: 'a0 00 00 0c 10 08 af 1b',
  },
  // down-right = 10|02 = 12, turbo pan: D FF, P 40; tilt 3F.
  // D 01+12+FF+3F = 151 -> 51. P 0F^12^40^3F = 62.
  {
    name: 'down-right, pan turbo',
    cmd: { type: 'motion', pan: 'right', turbo: true, tilt: 'down', tiltSpeed: 0x3f },
    d: 'ff 01 00 12 ff 3f 51',
    p: 'a0 00 00 12 40 3f af 62',
  },
  // zoom tele = bit 5 (20). D 21. P 0F^20 = 2F.
  { name: 'zoom in', cmd: { type: 'motion', zoom: 'tele' }, d: 'ff 01 00 20 00 00 21', p: 'a0 00 00 20 00 00 af 2f' },
  // zoom wide = bit 6 (40). D 41. P 4F.
  { name: 'zoom out', cmd: { type: 'motion', zoom: 'wide' }, d: 'ff 01 00 40 00 00 41', p: 'a0 00 00 40 00 00 af 4f' },
  // focus far: D cmd2 bit 7 (80) -> 81; P data1 bit 0 (01) -> 0F^01 = 0E.
  { name: 'focus far', cmd: { type: 'motion', focus: 'far' }, d: 'ff 01 00 80 00 00 81', p: 'a0 00 01 00 00 00 af 0e' },
  // focus near: D cmd1 bit 0 (01) -> 02; P data1 bit 1 (02) -> 0D.
  { name: 'focus near', cmd: { type: 'motion', focus: 'near' }, d: 'ff 01 01 00 00 00 02', p: 'a0 00 02 00 00 00 af 0d' },
  // iris open: D cmd1 bit 1 (02) -> 03; P data1 bit 2 (04) -> 0B.
  { name: 'iris open', cmd: { type: 'motion', iris: 'open' }, d: 'ff 01 02 00 00 00 03', p: 'a0 00 04 00 00 00 af 0b' },
  // iris close: D cmd1 bit 2 (04) -> 05; P data1 bit 3 (08) -> 07.
  { name: 'iris close', cmd: { type: 'motion', iris: 'close' }, d: 'ff 01 04 00 00 00 05', p: 'a0 00 08 00 00 00 af 07' },
  // Extended: cmd2/data2 = code, data 2/4 = argument.
  // set preset 1: code 03. D 01+03+01 = 05. P 0F^03^01 = 0D.
  { name: 'set preset 1', cmd: { type: 'preset-set', preset: 1 }, d: 'ff 01 00 03 00 01 05', p: 'a0 00 00 03 00 01 af 0d' },
  // clear preset 1: code 05. D 07. P 0F^05^01 = 0B.
  { name: 'clear preset 1', cmd: { type: 'preset-clear', preset: 1 }, d: 'ff 01 00 05 00 01 07', p: 'a0 00 00 05 00 01 af 0b' },
  // call preset 1: code 07. D 09. P 0F^07^01 = 09.
  { name: 'call preset 1', cmd: { type: 'preset-goto', preset: 1 }, d: 'ff 01 00 07 00 01 09', p: 'a0 00 00 07 00 01 af 09' },
  // call preset 200 (C8): D 01+07+C8 = D0. P 0F^07^C8 = C0.
  { name: 'call preset 200', cmd: { type: 'preset-goto', preset: 200 }, d: 'ff 01 00 07 00 c8 d0', p: 'a0 00 00 07 00 c8 af c0' },
  // aux 2 on: code 09. D 01+09+02 = 0C. P 0F^09^02 = 04.
  { name: 'aux 2 on', cmd: { type: 'aux-on', aux: 2 }, d: 'ff 01 00 09 00 02 0c', p: 'a0 00 00 09 00 02 af 04' },
  // aux 2 off: code 0B. D 0E. P 0F^0B^02 = 06.
  { name: 'aux 2 off', cmd: { type: 'aux-off', aux: 2 }, d: 'ff 01 00 0b 00 02 0e', p: 'a0 00 00 0b 00 02 af 06' },
  // pattern start (record): 1F. D 20. P 0F^1F = 10.
  { name: 'pattern start', cmd: { type: 'pattern-start', pattern: 0 }, d: 'ff 01 00 1f 00 00 20', p: 'a0 00 00 1f 00 00 af 10' },
  // pattern stop (end record): 21. D 22. P 0F^21 = 2E.
  { name: 'pattern stop', cmd: { type: 'pattern-stop', pattern: 0 }, d: 'ff 01 00 21 00 00 22', p: 'a0 00 00 21 00 00 af 2e' },
  // run pattern: 23. D 24. P 0F^23 = 2C.
  { name: 'pattern run', cmd: { type: 'pattern-run', pattern: 0 }, d: 'ff 01 00 23 00 00 24', p: 'a0 00 00 23 00 00 af 2c' },
  // zoom speed 3: 25, 03. D 01+25+03 = 29. P 0F^25^03 = 29.
  { name: 'zoom speed 3', cmd: { type: 'zoom-speed', speed: 3 }, d: 'ff 01 00 25 00 03 29', p: 'a0 00 00 25 00 03 af 29' },
  // focus speed 1: 27, 01. D 29. P 0F^27^01 = 29.
  { name: 'focus speed 1', cmd: { type: 'focus-speed', speed: 1 }, d: 'ff 01 00 27 00 01 29', p: 'a0 00 00 27 00 01 af 29' },
  // auto scan on: D sense (80) + scan (10) = 90 -> 91. P data1 bit 5 (20) -> 2F.
  { name: 'auto scan on', cmd: { type: 'auto-scan', on: true }, d: 'ff 01 90 00 00 00 91', p: 'a0 00 20 00 00 00 af 2f' },
  // query pan 51: D 52. P 0F^51 = 5E.
  { name: 'query pan', cmd: { type: 'query-pan' }, d: 'ff 01 00 51 00 00 52', p: 'a0 00 00 51 00 00 af 5e' },
  // query tilt 53: D 54. P 0F^53 = 5C.
  { name: 'query tilt', cmd: { type: 'query-tilt' }, d: 'ff 01 00 53 00 00 54', p: 'a0 00 00 53 00 00 af 5c' },
  // query zoom 55: D 56. P 0F^55 = 5A.
  { name: 'query zoom', cmd: { type: 'query-zoom' }, d: 'ff 01 00 55 00 00 56', p: 'a0 00 00 55 00 00 af 5a' },
  // pan position 9000 = 0x2328 (90.00 degrees): D 01+59+23+28 = A5. P 0F^59^23^28 = 5D.
  {
    name: 'pan position response 9000',
    cmd: { type: 'pan-position', value: 9000 },
    d: 'ff 01 00 59 23 28 a5',
    p: 'a0 00 00 59 23 28 af 5d',
  },
  // tilt position 35000 = 0x88B8 (10 degrees above the horizon): D 01+5B+88+B8 = 19C -> 9C. P 0F^5B^88^B8 = 64.
  {
    name: 'tilt position response 35000',
    cmd: { type: 'tilt-position', value: 35000 },
    d: 'ff 01 00 5b 88 b8 9c',
    p: 'a0 00 00 5b 88 b8 af 64',
  },
  // zoom position FFFF: D 01+5D+FF+FF = 25C -> 5C. P 0F^5D^FF^FF = 52.
  {
    name: 'zoom position response 65535',
    cmd: { type: 'zoom-position', value: 65535 },
    d: 'ff 01 00 5d ff ff 5c',
    p: 'a0 00 00 5d ff ff af 52',
  },
];

export const handFramesOne: HandFrameOne[] = [
  // D: scan bit without sense = manual scan: 10 -> 11.
  { name: 'auto scan off', protocol: 'd', address: 1, cmd: { type: 'auto-scan', on: false }, hex: 'ff 01 10 00 00 00 11' },
  // P has no off bit: a stop frame.
  { name: 'auto scan off', protocol: 'p', address: 1, cmd: { type: 'auto-scan', on: false }, hex: 'a0 00 00 00 00 00 af 0f' },
  // D address 2, right 20: 02+02+20 = 24.
  { name: 'address 2, pan right', protocol: 'd', address: 2, cmd: { type: 'motion', pan: 'right', panSpeed: 0x20 }, hex: 'ff 02 00 02 20 00 24' },
  // D address 255, call preset 255: FF+07+FF = 205 -> 05.
  { name: 'address 255, call preset 255', protocol: 'd', address: 255, cmd: { type: 'preset-goto', preset: 255 }, hex: 'ff ff 00 07 00 ff 05' },
  // P dome 32 = wire 1F, stop: 0F^1F = 10.
  { name: 'dome 32, stop', protocol: 'p', address: 32, cmd: { type: 'motion' }, hex: 'a0 1f 00 00 00 00 af 10' },
  // Preset recall with a speed in data 1 (vendor extension). D 01+07+20+05 = 2D. P 0F^07^20^05 = 2D.
  { name: 'call preset 5 at speed 0x20', protocol: 'd', address: 1, cmd: { type: 'preset-goto', preset: 5, speed: 0x20 }, hex: 'ff 01 00 07 20 05 2d' },
  { name: 'call preset 5 at speed 0x20', protocol: 'p', address: 1, cmd: { type: 'preset-goto', preset: 5, speed: 0x20 }, hex: 'a0 00 00 07 20 05 af 2d' },
];
