// Every command byte for byte against frames worked out by hand from the
// protocol documents: the table and its arithmetic are in pelco-frames.ts.
import t from 'tap';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PelcoError, checksumD, checksumP, decode, encode, isFrame, type PelcoCommand, type PelcoProtocol } from '../../../firmware/ptz/index.js';
import { bytes, handFrames, handFramesOne } from './pelco-frames.js';

for (const c of handFrames) {
  t.test(c.name, async (t) => {
    t.same(encode('d', 1, c.cmd), bytes(c.d), 'Pelco-D');
    t.same(encode('p', 1, c.cmd), bytes(c.p), 'Pelco-P');
    t.same(decode('d', bytes(c.d)).command, c.cmd, 'Pelco-D decodes back');
    t.same(decode('p', bytes(c.p)).command, c.cmd, 'Pelco-P decodes back');
  });
}

for (const f of handFramesOne) {
  t.test(`${f.name} (Pelco-${f.protocol.toUpperCase()}, address ${f.address})`, async (t) => {
    t.same(encode(f.protocol, f.address, f.cmd), bytes(f.hex));
    // Auto scan off in Pelco-P is the stop frame: it decodes as one.
    const back = decode(f.protocol, bytes(f.hex));
    t.equal(back.address, f.address);
    if (!(f.cmd.type === 'auto-scan' && f.protocol === 'p')) t.same(back.command, f.cmd);
  });
}

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
