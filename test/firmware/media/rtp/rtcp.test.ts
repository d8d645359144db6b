import t from 'tap';
import { RtpClock, TimestampUnwrapper } from '../../../../firmware/media/rtp/clock.js';
import { ReceptionStats } from '../../../../firmware/media/rtp/reception.js';
import { NTP_UNIX_OFFSET, buildReceiverReport, ntpToUnixMicros, parseRtcp, type SenderReport } from '../../../../firmware/media/rtp/rtcp.js';

function sr(ssrc: number, unixMs: number, rtp: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  const secs = Math.floor(unixMs / 1000);
  b.writeUInt32BE(secs + NTP_UNIX_OFFSET, 8);
  b.writeUInt32BE(Math.round(((unixMs % 1000) / 1000) * 2 ** 32), 12);
  b.writeUInt32BE(rtp >>> 0, 16);
  b.writeUInt32BE(10, 20);
  b.writeUInt32BE(1000, 24);
  return b;
}

t.test('compound SR + SDES + BYE', async (t) => {
  const bye = Buffer.from([0x81, 203, 0, 3, 0, 0, 0, 5, 4, 0x62, 0x79, 0x65, 0x21, 0, 0, 0]);
  const sdes = Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 5]);
  const pk = parseRtcp(Buffer.concat([sr(5, 1_700_000_000_500, 90000), sdes, bye]));
  t.match(pk[0], { type: 'sr', ssrc: 5, rtpTimestamp: 90000, packetCount: 10, octetCount: 1000 });
  const s = pk[0] as SenderReport;
  t.equal(Math.round(ntpToUnixMicros(s.ntpSeconds, s.ntpFraction) / 1000), 1_700_000_000_500);
  t.same(pk[1], { type: 'other', packetType: 202 });
  t.same(pk[2], { type: 'bye', ssrcs: [5], reason: 'bye!' });
});

t.test('malformed RTCP is an RtpError', async (t) => {
  t.throws(() => parseRtcp(Buffer.from([0x80, 200, 0, 9, 0, 0, 0, 0])), { name: 'RtpError', message: /overruns/ });
  t.throws(() => parseRtcp(Buffer.from([0x40, 200, 0, 0])), { message: /version 1/ });
});

t.test('receiver report: loss, extended highest sequence, jitter, LSR/DLSR', async (t) => {
  const rs = new ReceptionStats(90000);
  // 65530..65535, 0..9 with 3 and 4 lost: 16 expected, 14 received, one wrap.
  let seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 5, 6, 7, 8, 9];
  // Timestamp and arrival both follow the extended sequence number.
  const ext = (s: number): number => (s < 1000 ? s + 65536 : s) - 65530;
  for (const s of seqs) rs.onPacket(s, ext(s) * 3600, 1000 + ext(s) * 40);
  const [srPk] = parseRtcp(sr(77, 1_700_000_000_000, 0)) as [SenderReport];
  rs.onSenderReport(srPk, 2000);
  const b = rs.reportBlock(77, 2500);
  t.equal(b.cumulativeLost, 2);
  t.equal(b.highestSeq, 65536 + 9);
  t.equal(b.fractionLost, Math.floor((2 * 256) / 16));
  t.equal(b.jitter, 0, 'packets arrive exactly on their timestamps');
  t.equal(b.lsr, (((srPk.ntpSeconds & 0xffff) << 16) | (srPk.ntpFraction >>> 16)) >>> 0);
  t.equal(b.dlsr, 65536 / 2, '500 ms in 1/65536 s');
  // Next interval: no loss.
  seqs = [10, 11];
  for (const s of seqs) rs.onPacket(s, ext(s) * 3600, 1000 + ext(s) * 40);
  t.equal(rs.reportBlock(77, 3000).fractionLost, 0);
  const rr = parseRtcp(buildReceiverReport(1234, [b], 'dvr@cam1'));
  t.match(rr[0], { type: 'rr', ssrc: 1234, reports: [b] });
  t.same(rr[1], { type: 'other', packetType: 202 }, 'an SDES CNAME follows, as RFC 3550 requires');
});

t.test('jitter grows with arrival-time variation', async (t) => {
  const rs = new ReceptionStats(90000);
  for (let i = 0; i < 100; i++) rs.onPacket(i, i * 3600, i * 40 + (i % 2 ? 10 : 0));
  t.ok(rs.jitter > 500 && rs.jitter < 900, `jitter ${rs.jitter} ≈ 900 ticks (10 ms) smoothed`);
});

t.test('timestamps unwrap across 2^32', async (t) => {
  const u = new TimestampUnwrapper();
  t.equal(u.unwrap(2 ** 32 - 100), 2 ** 32 - 100);
  t.equal(u.unwrap(50), 2 ** 32 + 50);
  t.equal(u.unwrap(2 ** 32 - 10), 2 ** 32 - 10, 'a reordered packet before the wrap');
});

t.test('wall clock: arrival anchor, then the SR offset slewed in without steps', async (t) => {
  const c = new RtpClock(90000);
  const T0 = 1_700_000_000_000_000; // µs
  t.equal(c.toWallMicros(2 ** 32 - 9000, T0), T0, 'anchored at the first arrival');
  t.equal(c.toWallMicros(81000, T0 + 99_999_999), T0 + 1_000_000, '90000 ticks later, whatever the arrival');
  t.equal(c.source, 'arrival');
  // The camera says timestamp 81000 was captured 200 ms earlier than our mapping.
  const [s] = parseRtcp(sr(1, (T0 + 1_000_000 - 200_000) / 1000, 81000)) as [SenderReport];
  c.onSenderReport(s, T0 + 1_000_000);
  t.equal(c.source, 'sr');
  let prev = T0 + 1_000_000;
  let ts = 81000;
  const steps: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const now = c.toWallMicros((ts += 3600), 0);
    steps.push(now - prev);
    prev = now;
  }
  t.ok(steps.every((d) => d >= 39_600 && d <= 40_400), 'each 40 ms frame moves 40 ms ± 1%');
  t.equal(prev, T0 + 1_000_000 + 1000 * 40_000 - 200_000, 'converged on the camera time');
});

t.test('an SR before the first packet applies at once; a wildly wrong camera clock is ignored', async (t) => {
  const T0 = 1_700_000_000_000_000;
  const c = new RtpClock(90000);
  const [s] = parseRtcp(sr(1, (T0 - 300_000) / 1000, 1000)) as [SenderReport];
  c.onSenderReport(s, T0);
  t.equal(c.toWallMicros(1000, T0), T0 - 300_000);
  const d = new RtpClock(90000);
  const [bad] = parseRtcp(sr(1, Date.UTC(2000, 0, 1), 1000)) as [SenderReport];
  d.onSenderReport(bad, T0);
  t.equal(d.skewed, true);
  t.equal(d.toWallMicros(1000, T0), T0, 'arrival mapping kept');
});
