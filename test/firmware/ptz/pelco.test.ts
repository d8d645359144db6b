// Every command byte for byte against frames worked out by hand from the
// protocol documents (sources in firmware/ptz/README.md).
//   Pelco-D: FF addr cmd1 cmd2 data1 data2 sum, sum = (addr+cmd1+cmd2+data1+data2) mod 256
//   Pelco-P: A0 addr-1 data1 data2 data3 data4 AF xor, xor = A0^addr^d1^d2^d3^d4^AF
//            and since A0^AF = 0F, xor = 0F^addr^d1^d2^d3^d4.
import t from 'tap';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PelcoError, checksumD, checksumP, decode, encode, isFrame, type PelcoCommand, type PelcoProtocol } from '../../../firmware/ptz/index.js';

const bytes = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

interface Case {
  name: string;
  cmd: PelcoCommand;
  d: string;
  p: string;
}

// Address 1 throughout: D sends 01, P sends 00.
const cases: Case[] = [
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

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(encode('d', 1, c.cmd), bytes(c.d), 'Pelco-D');
    t.same(encode('p', 1, c.cmd), bytes(c.p), 'Pelco-P');
    t.same(decode('d', bytes(c.d)).command, c.cmd, 'Pelco-D decodes back');
    t.same(decode('p', bytes(c.p)).command, c.cmd, 'Pelco-P decodes back');
  });
}

t.test('auto scan off', async (t) => {
  // D: scan bit without sense = manual scan: 10 -> 11.
  t.same(encode('d', 1, { type: 'auto-scan', on: false }), bytes('ff 01 10 00 00 00 11'));
  // P has no off bit: a stop frame.
  t.same(encode('p', 1, { type: 'auto-scan', on: false }), bytes('a0 00 00 00 00 00 af 0f'));
});

t.test('addresses: Pelco-D sends the dome number, Pelco-P counts from 0', async (t) => {
  // D address 2, right 20: 02+02+20 = 24.
  t.same(encode('d', 2, { type: 'motion', pan: 'right', panSpeed: 0x20 }), bytes('ff 02 00 02 20 00 24'));
  // D address 255, call preset 255: FF+07+FF = 205 -> 05.
  t.same(encode('d', 255, { type: 'preset-goto', preset: 255 }), bytes('ff ff 00 07 00 ff 05'));
  // P dome 32 = wire 1F, stop: 0F^1F = 10.
  t.same(encode('p', 32, { type: 'motion' }), bytes('a0 1f 00 00 00 00 af 10'));
  t.equal(decode('p', bytes('a0 1f 00 00 00 00 af 10')).address, 32);
  t.equal(decode('d', bytes('ff 02 00 02 20 00 24')).address, 2);
});

t.test('preset recall with a speed in data 1 (vendor extension)', async (t) => {
  // D 01+07+20+05 = 2D.
  t.same(encode('d', 1, { type: 'preset-goto', preset: 5, speed: 0x20 }), bytes('ff 01 00 07 20 05 2d'));
});

t.test('out-of-range arguments are refused with a clear error', async (t) => {
  const bad: Array<[PelcoProtocol, number, PelcoCommand, RegExp]> = [
    ['d', 0, { type: 'motion' }, /Pelco-D address must be an integer 1..255, got 0/],
    ['d', 256, { type: 'motion' }, /Pelco-D address/],
    ['p', 0, { type: 'motion' }, /Pelco-P address must be an integer 1..256/],
    ['d', 1, { type: 'preset-goto', preset: 0 }, /preset must be an integer 1..255, got 0/],
    ['d', 1, { type: 'preset-set', preset: 256 }, /preset/],
    ['d', 1, { type: 'aux-on', aux: 9 }, /aux must be an integer 1..8/],
    ['d', 1, { type: 'zoom-speed', speed: 4 }, /lens speed/],
    ['d', 1, { type: 'motion', pan: 'left', panSpeed: 0x40 }, /pan speed must be an integer 0..63, got 64/],
    ['p', 1, { type: 'motion', tilt: 'up', tiltSpeed: -1 }, /tilt speed/],
    ['d', 1, { type: 'pan-position', value: 70000 }, /position/],
    ['d', 1, { type: 'motion', pan: 'left', panSpeed: 1.5 }, /pan speed/],
  ];
  for (const [proto, addr, cmd, re] of bad) t.throws(() => encode(proto, addr, cmd), re);
  t.throws(() => encode('d', 0, { type: 'motion' }), PelcoError);
});

t.test('decode refuses what is not a frame', async (t) => {
  t.throws(() => decode('d', bytes('ff 01 00 02 20 00 24')), /not a valid Pelco-D frame/); // checksum off by one
  t.throws(() => decode('d', bytes('ff 01 00 02 20 00')), /not a valid/); // truncated
  t.throws(() => decode('p', bytes('a0 00 00 02 20 00 ae 2d')), /not a valid Pelco-P frame/); // ETX wrong
  // An extended code this codec has no name for is kept, not dropped.
  t.same(decode('d', bytes('ff 01 00 0f 00 00 10')).command, { type: 'extended', code: 0x0f, data1: 0, data2: 0 });
});

// Property: any command the encoder accepts decodes back to itself, in both protocols.
const motion = fc.record(
  {
    pan: fc.constantFrom('left' as const, 'right' as const),
    panSpeed: fc.integer({ min: 0, max: 63 }),
    tilt: fc.constantFrom('up' as const, 'down' as const),
    tiltSpeed: fc.integer({ min: 0, max: 63 }),
    zoom: fc.constantFrom('tele' as const, 'wide' as const),
    focus: fc.constantFrom('near' as const, 'far' as const),
    iris: fc.constantFrom('open' as const, 'close' as const),
  },
  { requiredKeys: [] },
);
const command: fc.Arbitrary<PelcoCommand> = fc.oneof(
  motion.map((m) => {
    // A speed only travels with its direction; the decoder reports both or neither.
    const c: PelcoCommand = { type: 'motion', ...m };
    if (m.pan) c.panSpeed = m.panSpeed ?? 0;
    else delete c.panSpeed;
    if (m.tilt) c.tiltSpeed = m.tiltSpeed ?? 0;
    else delete c.tiltSpeed;
    return c;
  }),
  fc.record({ type: fc.constantFrom('preset-set' as const, 'preset-clear' as const), preset: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ type: fc.constant('preset-goto' as const), preset: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ type: fc.constantFrom('aux-on' as const, 'aux-off' as const), aux: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    type: fc.constantFrom('pattern-start' as const, 'pattern-stop' as const, 'pattern-run' as const),
    pattern: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ type: fc.constantFrom('zoom-speed' as const, 'focus-speed' as const), speed: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ type: fc.constantFrom('query-pan' as const, 'query-tilt' as const, 'query-zoom' as const) }),
  fc.record({
    type: fc.constantFrom('pan-position' as const, 'tilt-position' as const, 'zoom-position' as const),
    value: fc.integer({ min: 0, max: 0xffff }),
  }),
);

t.test('encode/decode round trip (property)', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom<PelcoProtocol>('d', 'p'), fc.integer({ min: 1, max: 255 }), command, (proto, addr, cmd) => {
      const f = decode(proto, encode(proto, addr, cmd));
      assert.deepStrictEqual(f.command, cmd);
      assert.equal(f.address, addr);
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 commands round-tripped');
});

t.test('fuzz: every well-framed payload decodes, and what is named can be sent again', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), ([addr, b3, b4, b5, b6]) => {
      const d = [0xff, addr!, b3!, b4!, b5!, b6!, 0];
      d[6] = checksumD(d);
      const p = [0xa0, addr!, b3!, b4!, b5!, b6!, 0xaf, 0];
      p[7] = checksumP(p);
      for (const [proto, frame] of [['d', d], ['p', p]] as const) {
        const f = decode(proto, Uint8Array.from(frame));
        if (f.address >= 1 && f.address <= 255) assert.ok(isFrame(proto, encode(proto, f.address, f.command)));
      }
    }),
    { numRuns: 3000 },
  );
  // Out-of-range arguments stay raw: preset 0 is not a preset.
  t.same(decode('d', bytes('ff 01 00 07 00 00 08')).command, { type: 'extended', code: 7, data1: 0, data2: 0 });
});
