/**
 * Fuzzing of the SNTP reply parser (firmware/net/ntp/packet.ts), with
 * ≥100,000 cases per property (test/firmware/net/ntp/fuzz.test.ts runs the
 * same with a few thousand):
 *
 *   node dist/scripts/bench/fuzz-ntp.js [runs=100000] [name-filter]
 *
 * Whatever a reply holds, parseReply throws NtpError or returns a reply that
 * passed every check, re-checked here from the raw bytes. Exits non-zero on
 * a counterexample, printing fast-check's report (with the seed to replay it).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePacket, NtpError, ntpToUnixMs, parseReply, unixMsToNtp, type NtpPacket, type NtpTimestamp } from '../../firmware/net/ntp/packet.js';
import { isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const timestamp: fc.Arbitrary<NtpTimestamp> = fc.record({ seconds: u32, fraction: u32 });
/** Our clock: anywhere from 1900 to 2150, so both eras and their boundary are covered. */
const clockMs = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2150, 0, 1) });
const YEAR_MS = 365.25 * 86_400_000;

/** parseReply on `buf`; a result is checked against the bytes themselves, an error must be an NtpError. */
function checkParse(buf: Uint8Array, sent: NtpTimestamp, now: number): void {
  let r;
  try {
    r = parseReply(buf, sent, now);
  } catch (e) {
    if (e instanceof NtpError) return;
    throw e;
  }
  assert.ok(buf.length >= 48, 'at least 48 bytes');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const word = (off: number) => dv.getUint32(off);
  assert.equal(buf[0]! & 7, 4, 'mode 4');
  const version = (buf[0]! >> 3) & 7;
  assert.ok(version === 3 || version === 4, 'version 3 or 4');
  assert.equal(r.version, version);
  assert.ok(word(24) === sent.seconds && word(28) === sent.fraction, 'the originate timestamp is ours');
  if (r.kind === 'kiss') {
    assert.equal(buf[1], 0, 'a kiss is stratum 0');
    assert.match(r.code, /^[\x20-\x7e]{0,4}$/);
    return;
  }
  assert.ok(buf[1]! >= 1 && buf[1]! <= 15 && r.stratum === buf[1], 'stratum 1-15');
  assert.ok(buf[0]! >> 6 !== 3 && r.leap === buf[0]! >> 6, 'synchronised');
  assert.ok(word(40) || word(44), 'a transmit timestamp');
  assert.ok(word(32) || word(36), 'a receive timestamp');
  for (const ms of [r.receiveMs, r.transmitMs]) {
    assert.ok(Number.isFinite(ms) && Math.abs(ms - now) <= 2 ** 31 * 1000, 'in the era closest to our clock');
  }
}

/** Any header, its fields drawn where the checks are: near the valid values as often as far from them. */
const header: fc.Arbitrary<Partial<NtpPacket>> = fc.record({
  leap: fc.nat(3),
  version: fc.oneof(fc.constantFrom(3, 4), fc.nat(7)),
  mode: fc.oneof(fc.constant(4), fc.nat(7)),
  stratum: fc.oneof(fc.nat(17), fc.nat(255)),
  poll: fc.integer({ min: -128, max: 127 }),
  precision: fc.integer({ min: -128, max: 127 }),
  rootDelay: u32,
  rootDispersion: u32,
  refId: u32,
  reference: fc.oneof(fc.constant({ seconds: 0, fraction: 0 }), timestamp),
  receive: fc.oneof(fc.constant({ seconds: 0, fraction: 0 }), timestamp),
  transmit: fc.oneof(fc.constant({ seconds: 0, fraction: 0 }), timestamp),
});

/** A reply a synchronised server would send to `sent`. */
const validReply = fc.record({
  leap: fc.nat(2),
  version: fc.constantFrom(3, 4),
  stratum: fc.integer({ min: 1, max: 15 }),
  refId: u32,
  receive: timestamp.filter((ts) => ts.seconds !== 0 || ts.fraction !== 0),
  transmit: timestamp.filter((ts) => ts.seconds !== 0 || ts.fraction !== 0),
});

export const ntpProperties: NamedProperty<fc.IProperty<any>>[] = [
  {
    name: 'reply: arbitrary bytes → NtpError or a reply that passed every check',
    property: fc.property(fc.uint8Array({ maxLength: 120 }), timestamp, clockMs, (buf, sent, now) => checkParse(buf, sent, now)),
  },
  {
    name: 'reply: arbitrary bytes echoing our timestamp → NtpError or a checked reply',
    property: fc.property(fc.uint8Array({ minLength: 48, maxLength: 120 }), timestamp, clockMs, (raw, sent, now) => {
      const buf = Buffer.from(raw);
      buf.writeUInt32BE(sent.seconds, 24);
      buf.writeUInt32BE(sent.fraction, 28);
      checkParse(buf, sent, now);
    }),
  },
  {
    name: 'reply: any header echoing our timestamp, with or without extension bytes → NtpError or a checked reply',
    property: fc.property(header, timestamp, clockMs, fc.uint8Array({ maxLength: 40 }), (h, sent, now, ext) => {
      checkParse(Buffer.concat([encodePacket({ ...h, originate: sent }), ext]), sent, now);
    }),
  },
  {
    name: 'reply: a valid reply with bytes changed or cut → NtpError or a checked reply',
    property: fc.property(
      validReply,
      timestamp,
      clockMs,
      fc.array(fc.tuple(fc.nat(47), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat(48)),
      (v, sent, now, flips, cut) => {
        const buf = encodePacket({ ...v, mode: 4, originate: sent });
        for (const [at, xor] of flips) buf[at]! ^= xor;
        checkParse(cut === null ? buf : buf.subarray(0, cut), sent, now);
      },
    ),
  },
  {
    name: "reply: a valid reply is accepted, its times read back in our clock's era",
    property: fc.property(validReply, timestamp, clockMs, fc.integer({ min: -60, max: 60 }), fc.integer({ min: 0, max: 10_000 }), (v, sent, serverMs, skewYears, extraMs) => {
      const now = serverMs + skewYears * YEAR_MS;
      const receive = unixMsToNtp(serverMs);
      const transmit = unixMsToNtp(serverMs + extraMs);
      // The zero timestamp (1900-01-01, 2036-02-07T06:28:16Z) means "none" and is refused.
      fc.pre([receive, transmit].every((ts) => ts.seconds !== 0 || ts.fraction !== 0));
      const r = parseReply(encodePacket({ ...v, mode: 4, originate: sent, receive, transmit }), sent, now);
      assert.equal(r.kind, 'time');
      if (r.kind !== 'time') return;
      assert.ok(Math.abs(r.receiveMs - serverMs) < 0.01, `receive ${r.receiveMs} for ${serverMs}`);
      assert.ok(Math.abs(r.transmitMs - serverMs - extraMs) < 0.01, `transmit ${r.transmitMs}`);
    }),
  },
  {
    name: 'timestamps: Unix ms → NTP → Unix ms within 10 µs, read by a clock up to 60 years off',
    property: fc.property(
      fc.double({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2150, 0, 1), noNaN: true }),
      fc.double({ min: -60 * YEAR_MS, max: 60 * YEAR_MS, noNaN: true }),
      (ms, skew) => {
        const ts = unixMsToNtp(ms);
        assert.ok(Number.isInteger(ts.seconds) && ts.seconds >= 0 && ts.seconds <= 0xffffffff);
        assert.ok(Number.isInteger(ts.fraction) && ts.fraction >= 0 && ts.fraction <= 0xffffffff);
        assert.ok(Math.abs(ntpToUnixMs(ts, ms + skew) - ms) < 0.01);
      },
    ),
  },
];

// process.exit rather than exitCode: nothing left running may hold the process open.
if (isMain(import.meta.url)) process.exit((await runFuzz('fuzz-ntp', ntpProperties)) ? 0 : 1);
