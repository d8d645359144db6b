import t, { type Test } from 'tap';
import {
  decodePacket,
  encodePacket,
  encodeRequest,
  NTP_UNIX_OFFSET,
  NtpError,
  ntpToUnixMs,
  parseReply,
  requestTimestamp,
  unixMsToNtp,
  type NtpPacket,
  type NtpTimestamp,
} from '../../../../firmware/net/ntp/packet.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0, 250);
const SENT: NtpTimestamp = { seconds: 0xed0c7a40, fraction: 0x12345678 };
/** chronyd's answer as seen on the wire: stratum 2, synchronised to 192.168.1.1. */
const good = (over: Partial<NtpPacket> = {}): Buffer =>
  encodePacket({
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    poll: 6,
    precision: -25,
    rootDelay: 0x00001000, // 16.16 seconds: 62.5 ms
    rootDispersion: 0x00000800,
    refId: 0xc0a80101,
    reference: unixMsToNtp(NOW - 30_000),
    originate: SENT,
    receive: unixMsToNtp(NOW + 5),
    transmit: unixMsToNtp(NOW + 6),
    ...over,
  });

function refused(t: Test, buf: Uint8Array, code: string, message: RegExp, what: string): void {
  try {
    parseReply(buf, SENT, NOW);
    t.fail(`${what}: accepted`);
  } catch (e) {
    t.ok(e instanceof NtpError && e.name === 'NtpError', `${what}: an NtpError`);
    t.match(e, { code, message }, what);
  }
}

t.test('the request: 48 bytes, LI 0, version 4, mode 3, only the transmit timestamp set', async (t) => {
  const ts = requestTimestamp(NOW);
  const req = encodeRequest(ts);
  t.equal(req.length, 48);
  t.equal(req[0], 0x23, '00 100 011');
  t.same([...req.subarray(1, 40)], new Array(39).fill(0));
  const p = decodePacket(req);
  t.same(p.transmit, ts);
  t.ok(Math.abs(ntpToUnixMs(ts, NOW) - NOW) < 1, 'the transmit timestamp is the send time (random bits under a millisecond)');
  const others = new Set(Array.from({ length: 20 }, () => requestTimestamp(NOW).fraction));
  t.ok(others.size > 15, 'the sub-millisecond bits differ from request to request');
  t.notSame(requestTimestamp(Date.UTC(2036, 1, 7, 6, 28, 16)), { seconds: 0, fraction: 0 }, 'never the zero timestamp, even at the era change');
});

t.test('timestamps: known instants, rounding, both eras', async (t) => {
  t.same(unixMsToNtp(0), { seconds: NTP_UNIX_OFFSET, fraction: 0 }, 'the Unix epoch');
  t.same(unixMsToNtp(500), { seconds: NTP_UNIX_OFFSET, fraction: 2 ** 31 });
  t.same(unixMsToNtp(Date.UTC(1968, 0, 20, 3, 14, 8)), { seconds: 2 ** 31, fraction: 0 }, 'the top bit of era 0 (RFC 4330 §3)');
  const change = Date.UTC(2036, 1, 7, 6, 28, 16);
  t.same(unixMsToNtp(change), { seconds: 0, fraction: 0 }, 'era 1 starts on 2036-02-07T06:28:16Z');
  t.same(unixMsToNtp(change - 500), { seconds: 2 ** 32 - 1, fraction: 2 ** 31 }, 'the last second of era 0');
  t.same(unixMsToNtp(999.99999999999), { seconds: NTP_UNIX_OFFSET + 1, fraction: 0 }, 'a fraction that rounds up carries into the seconds');
  t.equal(ntpToUnixMs({ seconds: 0, fraction: 0 }, change + 1000), change, 'zero seconds near 2036 is era 1');
  t.equal(ntpToUnixMs({ seconds: 0, fraction: 0 }, Date.UTC(1901, 0, 1)), -NTP_UNIX_OFFSET * 1000, 'and 1900 near 1900');
  t.equal(ntpToUnixMs({ seconds: 2 ** 32 - 1, fraction: 2 ** 31 }, change + 1000), change - 500, 'an era-0 time seen just after the change');
  for (const ms of [NOW, change + 1, Date.UTC(2040, 5, 1, 1, 2, 3, 456), Date.UTC(2099, 11, 31), Date.UTC(1999, 11, 31, 23, 59, 59, 999)]) {
    for (const skewYears of [-60, -1, 0, 1, 60]) {
      const near = ms + skewYears * 365.25 * 86_400_000;
      t.ok(Math.abs(ntpToUnixMs(unixMsToNtp(ms), near) - ms) < 0.001, `${new Date(ms).toISOString()} read with a clock ${skewYears} years off`);
    }
  }
});

t.test('a good reply: every field read, extension fields beyond 48 bytes ignored', async (t) => {
  const r = parseReply(Buffer.concat([good(), Buffer.alloc(28, 0xee)]), SENT, NOW);
  if (r.kind !== 'time') throw new Error('not a time reply');
  t.equal(r.version, 4);
  t.equal(r.leap, 0);
  t.equal(r.stratum, 2);
  t.equal(r.poll, 6);
  t.equal(r.precision, -25);
  t.equal(r.refId, '192.168.1.1');
  t.equal(r.rootDelayMs, 62.5);
  t.equal(r.rootDispersionMs, 31.25);
  t.ok(Math.abs(r.referenceMs! - (NOW - 30_000)) < 0.001);
  t.ok(Math.abs(r.receiveMs - (NOW + 5)) < 0.001);
  t.ok(Math.abs(r.transmitMs - (NOW + 6)) < 0.001);

  const s1 = parseReply(good({ stratum: 1, refId: 0x47505300, reference: { seconds: 0, fraction: 0 }, version: 3, leap: 1 }), SENT, NOW);
  t.match(s1, { kind: 'time', stratum: 1, refId: 'GPS', referenceMs: null, version: 3, leap: 1 }, 'stratum 1: an ASCII reference name; version 3 and a leap second announced are fine');
  t.match(parseReply(good({ stratum: 15, leap: 2 }), SENT, NOW), { stratum: 15, leap: 2 });
});

t.test('a reply in era 1, read by a clock in 2036', async (t) => {
  const at = Date.UTC(2036, 1, 7, 6, 28, 16, 100);
  const sent = unixMsToNtp(at);
  const r = parseReply(good({ originate: sent, receive: unixMsToNtp(at + 10), transmit: unixMsToNtp(at + 11) }), sent, at + 20);
  if (r.kind !== 'time') throw new Error('not a time reply');
  t.ok(Math.abs(r.receiveMs - (at + 10)) < 0.001, `receive ${new Date(r.receiveMs).toISOString()}`);
  t.ok(Math.abs(r.referenceMs! - (NOW - 30_000)) < 0.001, 'a reference time from 2026, still in era 0');
});

t.test('kiss-o-death: the code as a typed result, whatever the leap indicator', async (t) => {
  for (const code of ['RATE', 'DENY', 'RSTR']) {
    const refId = Buffer.from(code, 'ascii').readUInt32BE(0);
    t.same(parseReply(good({ stratum: 0, leap: 3, refId, transmit: { seconds: 0, fraction: 0 } }), SENT, NOW), { kind: 'kiss', version: 4, code });
  }
  t.same(parseReply(good({ stratum: 0, refId: 0x41420000 }), SENT, NOW), { kind: 'kiss', version: 4, code: 'AB' }, 'trailing NULs dropped');
  t.same(parseReply(good({ stratum: 0, refId: 0x01ff4100 }), SENT, NOW), { kind: 'kiss', version: 4, code: '??A' }, 'unprintable bytes as ?');
  t.same(parseReply(good({ stratum: 0, refId: 0 }), SENT, NOW), { kind: 'kiss', version: 4, code: '' });
  refused(t, good({ stratum: 0, refId: 0x44454e59, originate: { seconds: 1, fraction: 2 } }), 'spoofed', /originate/, 'a kiss that does not echo our request is not believed');
});

t.test('every refusal, with its code and a message that says why', async (t) => {
  refused(t, good().subarray(0, 47), 'truncated', /47 bytes.*at least 48/, 'one byte short');
  refused(t, new Uint8Array(0), 'truncated', /0 bytes/, 'empty');
  refused(t, good({ originate: { seconds: SENT.seconds, fraction: SENT.fraction + 1 } }), 'spoofed', /originate timestamp is not our request's/, 'originate one unit off');
  refused(t, good({ originate: { seconds: 0, fraction: 0 } }), 'spoofed', /originate/, 'no originate');
  refused(t, encodeRequest(SENT), 'spoofed', /originate/, 'our own request reflected back');
  refused(t, good({ mode: 3 }), 'not-server', /mode 3 \(client\), not a server's answer/, 'a client packet echoing our timestamp');
  refused(t, good({ mode: 5 }), 'not-server', /mode 5 \(broadcast\)/, 'broadcast');
  refused(t, good({ mode: 1 }), 'not-server', /symmetric active/, 'symmetric');
  refused(t, good({ version: 2 }), 'version', /version 2; only versions 3 and 4/, 'NTPv2');
  refused(t, good({ version: 5 }), 'version', /version 5/, 'a future version');
  refused(t, good({ version: 0 }), 'version', /version 0/, 'version 0');
  refused(t, good({ stratum: 16 }), 'stratum', /not synchronised \(stratum 16\)/, 'stratum 16');
  refused(t, good({ stratum: 17 }), 'stratum', /stratum 17; valid ones are 1 to 15/, 'stratum 17');
  refused(t, good({ stratum: 255 }), 'stratum', /stratum 255/, 'stratum 255');
  refused(t, good({ leap: 3 }), 'unsynchronised', /not synchronised \(leap indicator 3\)/, 'alarm condition');
  refused(t, good({ transmit: { seconds: 0, fraction: 0 } }), 'no-timestamp', /no transmit timestamp/, 'no transmit');
  refused(t, good({ receive: { seconds: 0, fraction: 0 } }), 'no-timestamp', /no receive timestamp/, 'no receive');
  t.doesNotThrow(() => parseReply(good({ transmit: { seconds: 0, fraction: 1 } }), SENT, NOW), 'a transmit fraction alone is a timestamp');
});

t.test('encodePacket masks fields to their width and decodePacket reads them back', async (t) => {
  const fields: NtpPacket = {
    leap: 2, version: 3, mode: 4, stratum: 7, poll: -3, precision: -128, rootDelay: 0xffffffff, rootDispersion: 1, refId: 0x7f7f0101,
    reference: { seconds: 1, fraction: 2 }, originate: { seconds: 3, fraction: 4 }, receive: { seconds: 0xffffffff, fraction: 0xffffffff }, transmit: { seconds: 7, fraction: 8 },
  };
  t.same(decodePacket(encodePacket(fields)), fields);
  t.match(decodePacket(encodePacket({ leap: 7, version: 9, mode: 12, stratum: 300 })), { leap: 3, version: 1, mode: 4, stratum: 44 });
  t.same(decodePacket(encodePacket({})).transmit, { seconds: 0, fraction: 0 });
});
