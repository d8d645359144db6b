/**
 * Fuzzing of everything that reads Pelco bytes from a serial line, with
 * ≥100,000 cases per property (test/firmware/ptz/*.test.ts run the same
 * properties with a few thousand):
 *
 *   node dist/scripts/bench/fuzz-pelco.js [runs=100000] [name-filter]
 *
 * Run from source to include the PTZ dome simulator's decoder (a test
 * fixture, not part of the build):
 *
 *   node --import @tapjs/typescript/import scripts/bench/fuzz-pelco.ts
 *
 * Exits non-zero on a counterexample, printing fast-check's report (with the
 * seed to replay it).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameReader,
  PositionReplyParser,
  checksumD,
  checksumP,
  decode,
  encode,
  isFrame,
  type PelcoCommand,
} from '../../firmware/ptz/index.js';
import { chunked, isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const mode = fc.constantFrom('d' as const, 'p' as const, 'auto' as const);
const syncFree = fc.uint8Array({ maxLength: 20 }).map((a) => a.map((b) => (b === 0xff || b === 0xa0 ? 0 : b)));
const recall = fc
  .tuple(fc.constantFrom('d' as const, 'p' as const), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 255 }))
  .map(([proto, addr, preset]) => encode(proto, addr, { type: 'preset-goto', preset } as PelcoCommand));

export const pelcoProperties: NamedProperty<fc.IProperty<any>>[] = [
  {
    name: 'frame-reader: arbitrary bytes',
    property: fc.property(mode, fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (m, data, cuts) => {
      const r = new FrameReader(m);
      for (const c of chunked(data, cuts)) {
        for (const f of r.push(c)) assert.ok(isFrame(f.protocol, f.bytes));
        assert.ok(r.buffered < 8);
      }
    }),
  },
  {
    name: 'frame-reader: frames among noise',
    property: fc.property(fc.array(fc.tuple(syncFree, recall), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
      const stream = Buffer.concat(parts.flatMap(([n, f]) => [n, f]));
      const r = new FrameReader('auto');
      const got = chunked(stream, cuts).flatMap((c) => r.push(c).map((f) => f.bytes.toString('hex')));
      assert.deepEqual(got, parts.map(([, f]) => f.toString('hex')));
    }),
  },
  {
    name: 'decode: any well-framed payload',
    property: fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), ([addr, b3, b4, b5, b6]) => {
      const d = [0xff, addr!, b3!, b4!, b5!, b6!, 0];
      d[6] = checksumD(d);
      const p = [0xa0, addr!, b3!, b4!, b5!, b6!, 0xaf, 0];
      p[7] = checksumP(p);
      for (const [proto, bytes] of [['d', d], ['p', p]] as const) {
        // Every well-framed payload decodes to something, never throws...
        const f = decode(proto, Uint8Array.from(bytes));
        // ...and what it decodes to can be sent again (a protocol converter's round trip).
        if (f.address >= 1 && f.address <= 255) assert.ok(isFrame(proto, encode(proto, f.address, f.command)));
      }
    }),
  },
  {
    name: 'position-reply-parser: arbitrary bytes then an answer',
    property: fc.property(fc.uint8Array({ maxLength: 100 }), syncFree, fc.integer({ min: 0, max: 0xffff }), (junk, noise, value) => {
      const p = new PositionReplyParser('d', 1, 'pan');
      const v = p.push(junk);
      assert.ok(v === undefined || (Number.isInteger(v) && v >= 0 && v <= 0xffff));
      const q = new PositionReplyParser('p', 1, 'pan');
      q.push(noise);
      assert.equal(q.push(encode('p', 1, { type: 'pan-position', value })), value);
    }),
  },
];

/** The simulator's decoder, if the TypeScript fixture can be loaded (i.e. running from source). */
async function simulatorProperties(): Promise<NamedProperty<fc.IProperty<any>>[]> {
  // Structural, not `typeof import(...)`: a type import would pull the fixture into the build.
  interface SimModule {
    PtzDomeSim: new (o: { protocol: 'd' | 'p' | 'auto'; addresses: number[]; now: () => number }) => {
      handle(chunk: Uint8Array): void;
      log: Array<{ protocol: 'd' | 'p'; hex: string }>;
    };
  }
  let mod: SimModule;
  try {
    // Not a literal: keeps the fixture out of the tsc build.
    const url = new URL('../../test/fixtures/ptz-dome-sim.ts', import.meta.url).href;
    mod = (await import(url)) as SimModule;
  } catch {
    console.log('simulator decoder: skipped (run from source with the TypeScript loader to include it)');
    return [];
  }
  const addresses = Array.from({ length: 256 }, (_, i) => i + 1);
  return [
    {
      name: 'dome-sim: arbitrary bytes',
      property: fc.property(mode, fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), (m, cs) => {
        const sim = new mod.PtzDomeSim({ protocol: m, addresses, now: () => 0 });
        for (const c of cs) sim.handle(c);
        for (const c of sim.log) assert.ok(isFrame(c.protocol, Buffer.from(c.hex.replace(/ /g, ''), 'hex')));
      }),
    },
  ];
}

// process.exit rather than exitCode: nothing left running may hold the process open.
if (isMain(import.meta.url)) process.exit((await runFuzz('fuzz-pelco', [...pelcoProperties, ...(await simulatorProperties())])) ? 0 : 1);
