/**
 * Fuzzing of everything that reads Modbus RTU bytes from a serial line, with
 * ≥100,000 cases per property (test/firmware/modbus/fuzz.test.ts runs the same
 * properties with a few thousand):
 *
 *   node dist/scripts/bench/fuzz-modbus.js [runs=100000] [name-filter]
 *
 * Run from source to include the I/O module simulator's decoder (a test
 * fixture, not part of the build):
 *
 *   node --import @tapjs/typescript/import scripts/bench/fuzz-modbus.ts
 *
 * Exits non-zero on a counterexample, printing fast-check's report (with the
 * seed to replay it).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ModbusError,
  ReplyReader,
  crcOk,
  decodeReply,
  readCoils,
  readDiscreteInputs,
  withCrc,
  writeMultipleCoils,
  writeSingleCoil,
  type ModbusRequest,
} from '../../firmware/modbus/index.js';
import { chunked, expectOnly, isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const address = fc.integer({ min: 1, max: 247 });
/** Any request an alarm module would be sent, with the values a well-behaved device would answer. */
const request: fc.Arbitrary<ModbusRequest<unknown>> = fc.oneof(
  fc.tuple(address, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 64 })).map(([a, s, q]) => readDiscreteInputs(a, s, q) as ModbusRequest<unknown>),
  fc.tuple(address, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 64 })).map(([a, s, q]) => readCoils(a, s, q) as ModbusRequest<unknown>),
  fc.tuple(address, fc.integer({ min: 0, max: 0xffff }), fc.boolean()).map(([a, c, on]) => writeSingleCoil(a, c, on) as ModbusRequest<unknown>),
  fc.tuple(address, fc.integer({ min: 0, max: 100 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 })).map(([a, s, v]) => writeMultipleCoils(a, s, v) as ModbusRequest<unknown>),
);

/** The reply a device would send to `r`, with `bits` as the values read. */
function replyTo(r: ModbusRequest<unknown>, bits: boolean[]): Uint8Array {
  if (r.fn === 0x01 || r.fn === 0x02) {
    const n = r.replyLength - 5;
    const data = new Array<number>(n).fill(0);
    const q = (r.frame[4]! << 8) | r.frame[5]!;
    for (let i = 0; i < q; i++) if (bits[i % bits.length]) data[i >> 3]! |= 1 << (i & 7);
    return withCrc([r.address, r.fn, n, ...data]);
  }
  return withCrc(Array.from(r.frame.subarray(0, 6)));
}

/** A reader's outcome is a value or a ModbusError, and a value only comes from a CRC-valid frame. */
function wellFormed(outcome: unknown): void {
  if (outcome === undefined) return;
  const o = outcome as { ok: boolean; error?: unknown };
  if (!o.ok) assert.ok(o.error instanceof ModbusError, 'errors are ModbusError');
}

export const modbusProperties: NamedProperty<fc.IProperty<any>>[] = [
  {
    name: 'reply-reader: arbitrary bytes in arbitrary chunks',
    property: fc.property(request, fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (r, raw, biased, cuts) => {
      // Biased half the time: bytes that look like the start of the reply (its address, its
      // function, the exception function) so the length and CRC paths are reached often.
      const data = biased ? raw.map((b) => [r.address, r.fn, r.fn | 0x80, b][b & 3]!) : raw;
      const reader = new ReplyReader(r);
      for (const c of chunked(data, cuts)) {
        const out = reader.push(c);
        wellFormed(out);
        if (out) break;
        assert.ok(reader.buffered <= 260, 'holds at most one frame');
      }
    }),
  },
  {
    name: 'reply-reader: the reply found after noise and a truncated frame',
    property: fc.property(request, fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 6 }), (r, noise, cut, bits, cuts) => {
      const reply = replyTo(r, bits);
      const truncated = reply.subarray(0, cut % reply.length);
      const stream = Buffer.concat([noise, truncated, reply]);
      const reader = new ReplyReader(r);
      let out;
      for (const c of chunked(stream, cuts)) if ((out = reader.push(c))) break;
      assert.ok(out, 'a reply was found');
      // Noise can, rarely, contain a CRC-valid frame from this device: then that is what is found, typed.
      wellFormed(out);
      if (out.ok && !validFrameBefore(stream, r.address, noise.length + truncated.length)) {
        assert.deepEqual(out.value, decodeReply(r, reply));
      }
    }),
  },
  {
    name: 'decode-reply: any bytes → value, ModbusError or nothing else',
    property: fc.property(request, fc.uint8Array({ maxLength: 300 }), fc.boolean(), (r, body, fixCrc) => {
      // Half the time with a valid CRC and the device's address, so the checks behind the CRC are reached.
      const bytes = fixCrc ? withCrc([r.address, body[0] ?? r.fn, ...body.subarray(1)]) : body;
      expectOnly(ModbusError, () => decodeReply(r, bytes));
    }),
  },
  {
    name: 'decode-reply: exception frames are ModbusException with their code',
    property: fc.property(request, fc.integer({ min: 0, max: 255 }), (r, code) => {
      try {
        decodeReply(r, withCrc([r.address, r.fn | 0x80, code]));
        assert.fail('an exception reply must throw');
      } catch (e) {
        assert.ok(e instanceof ModbusError && e.code === 'EEXCEPTION' && (e as { exceptionCode?: number }).exceptionCode === code);
      }
    }),
  },
];

/** Whether a CRC-valid frame from `address` starts before offset `limit` (noise that happens to be one). */
function validFrameBefore(bytes: Uint8Array, address: number, limit: number): boolean {
  for (let i = 0; i < limit; i++) {
    if (bytes[i] !== address) continue;
    for (let end = i + 5; end <= bytes.length; end++) if (crcOk(bytes, i, end)) return true;
  }
  return false;
}

/** The simulator's decoder, if the TypeScript fixture can be loaded (i.e. running from source). */
async function simulatorProperties(): Promise<NamedProperty<fc.IProperty<any>>[]> {
  // Structural, not `typeof import(...)`: a type import would pull the fixture into the build.
  interface SimModule {
    ModbusIoSim: new (o: { address: number }) => { handle(chunk: Uint8Array): void; log: Array<{ hex: string }>; coils(): boolean[] };
  }
  let mod: SimModule;
  try {
    // Not a literal: keeps the fixture out of the tsc build.
    const url = new URL('../../test/fixtures/modbus-io-sim.ts', import.meta.url).href;
    mod = (await import(url)) as SimModule;
  } catch {
    console.log('simulator decoder: skipped (run from source with the TypeScript loader to include it)');
    return [];
  }
  return [
    {
      name: 'io-sim: arbitrary bytes',
      property: fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 6 }), (cs) => {
        const sim = new mod.ModbusIoSim({ address: 1 });
        for (const c of cs) sim.handle(c);
        for (const r of sim.log) assert.ok(crcOk(Buffer.from(r.hex.replace(/ /g, ''), 'hex')));
        assert.equal(sim.coils().length, 8);
      }),
    },
  ];
}

// process.exit rather than exitCode: nothing left running may hold the process open.
if (isMain(import.meta.url)) process.exit((await runFuzz('fuzz-modbus', [...modbusProperties, ...(await simulatorProperties())])) ? 0 : 1);
