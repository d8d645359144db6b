// The stream side: frames split and glued by the serial line, noise,
// truncated frames, bad checksums. Fuzzed: nothing a line can deliver
// makes the reader or the reply parser throw or grow.
import t from 'tap';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameReader, PositionReplyParser, encode, isFrame } from '../../../firmware/ptz/index.js';

const bytes = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const RIGHT = bytes('ff 01 00 02 20 00 23'); // D: address 1, pan right at 0x20
const QPAN = bytes('ff 01 00 51 00 00 52'); // D: query pan
const P_STOP = bytes('a0 00 00 00 00 00 af 0f'); // P: address 1, stop

t.test('a frame split at every possible point is read once', async (t) => {
  for (let cut = 0; cut <= RIGHT.length; cut++) {
    const r = new FrameReader('d');
    const frames = [...r.push(RIGHT.subarray(0, cut)), ...r.push(RIGHT.subarray(cut))];
    t.equal(frames.length, 1, `cut at ${cut}`);
    t.same(frames[0]!.command, { type: 'motion', pan: 'right', panSpeed: 0x20 });
  }
});

t.test('frames glued together in one read', async (t) => {
  const r = new FrameReader('d');
  const frames = r.push(Buffer.concat([RIGHT, QPAN, RIGHT]));
  t.same(
    frames.map((f) => f.command.type),
    ['motion', 'query-pan', 'motion'],
  );
  t.equal(r.stats.discarded, 0);
});

t.test('noise before, between and after frames is discarded and counted', async (t) => {
  const r = new FrameReader('d');
  const frames = r.push(Buffer.concat([bytes('00 13 37'), RIGHT, bytes('55 aa'), QPAN, bytes('01')]));
  t.equal(frames.length, 2);
  t.equal(r.stats.discarded, 6);
  t.equal(r.buffered, 0);
});

t.test('a truncated frame followed by a whole one: the whole one is read', async (t) => {
  const r = new FrameReader('d');
  // The dome was cut off after 3 bytes; the window FF 01 00 FF 01 00 02 fails the checksum.
  const frames = r.push(Buffer.concat([RIGHT.subarray(0, 3), QPAN]));
  t.same(
    frames.map((f) => f.command.type),
    ['query-pan'],
  );
  t.equal(r.stats.discarded, 3);
});

t.test('bad checksum: the frame is dropped, the next is read', async (t) => {
  const r = new FrameReader('d');
  const bad = Buffer.from(RIGHT);
  bad[6] = 0x24;
  const frames = r.push(Buffer.concat([bad, QPAN]));
  t.same(
    frames.map((f) => f.command.type),
    ['query-pan'],
  );
});

t.test('a sync byte inside a frame (turbo 0xFF) does not confuse the reader', async (t) => {
  const turbo = encode('d', 1, { type: 'motion', pan: 'left', turbo: true }); // ff 01 00 04 ff 00 04
  const r = new FrameReader('d');
  const frames = r.push(Buffer.concat([bytes('ff'), turbo, bytes('ff ff'), turbo]));
  t.equal(frames.length, 2);
  t.same(frames[1]!.command, { type: 'motion', pan: 'left', turbo: true });
});

t.test('auto mode reads both protocols; fixed mode ignores the other', async (t) => {
  const mixed = Buffer.concat([RIGHT, P_STOP, QPAN]);
  t.same(
    new FrameReader('auto').push(mixed).map((f) => f.protocol),
    ['d', 'p', 'd'],
  );
  t.same(
    new FrameReader('p').push(mixed).map((f) => f.protocol),
    ['p'],
  );
});

t.test('position reply parser: picks the right answer out of the noise', async (t) => {
  const p = new PositionReplyParser('d', 1, 'pan');
  t.equal(p.push(bytes('13 ff 01')), undefined, 'noise and a partial frame');
  t.equal(p.push(bytes('00 5b 00 10 6c')), undefined, 'a tilt answer is not a pan answer');
  t.equal(p.push(bytes('ff 02 00 59 00 10 6b')), undefined, 'an answer from dome 2 is not ours');
  // Pan 9000: ff 01 00 59 23 28 a5.
  t.equal(p.push(bytes('ff 01 00 59 23 28 a5')), 9000);
  const pp = new PositionReplyParser('p', 1, 'zoom');
  // P zoom 65535 from dome 1 (wire 00): a0 00 00 5d ff ff af 52.
  t.equal(pp.push(bytes('a0 00 00 5d ff')), undefined);
  t.equal(pp.push(bytes('ff af 52')), 65535);
});

// --- fuzzing -------------------------------------------------------------

const chunked = (data: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(data.subarray(last, p));
    last = p;
  }
  out.push(data.subarray(last));
  return out;
};

t.test('fuzz: arbitrary bytes never throw, never yield a bad frame, never pile up', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('d' as const, 'p' as const, 'auto' as const),
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (mode, data, cuts) => {
        const r = new FrameReader(mode);
        for (const chunk of chunked(data, cuts)) {
          for (const f of r.push(chunk)) assert.ok(isFrame(f.protocol, f.bytes));
          assert.ok(r.buffered < 8);
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.pass('3000 random streams');
});

const syncFree = fc.uint8Array({ maxLength: 20 }).map((a) => a.map((b) => (b === 0xff || b === 0xa0 ? 0x00 : b)));

t.test('fuzz: valid frames survive any noise without sync bytes, in any chunking', async (t) => {
  const frame = fc
    .tuple(fc.constantFrom('d' as const, 'p' as const), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 255 }))
    .map(([proto, addr, preset]) => encode(proto, addr, { type: 'preset-goto', preset }));
  fc.assert(
    fc.property(fc.array(fc.tuple(syncFree, frame), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
      const stream = Buffer.concat(parts.flatMap(([noise, f]) => [noise, f]));
      const r = new FrameReader('auto');
      const got = chunked(stream, cuts).flatMap((c) => r.push(c).map((f) => f.bytes.toString('hex')));
      assert.deepEqual(got, parts.map(([, f]) => f.toString('hex')));
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 noisy streams');
});

t.test('fuzz: the reply parser returns a 16-bit value or nothing, and finds a real answer', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), syncFree, fc.integer({ min: 0, max: 0xffff }), (junk, noise, value) => {
      const p = new PositionReplyParser('d', 1, 'tilt');
      const v = p.push(junk);
      assert.ok(v === undefined || (Number.isInteger(v) && v >= 0 && v <= 0xffff));
      // Noise without sync bytes, then a real answer: the answer is found.
      const fresh = new PositionReplyParser('d', 1, 'tilt');
      fresh.push(noise);
      assert.equal(fresh.push(encode('d', 1, { type: 'tilt-position', value })), value);
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 reply streams');
});
