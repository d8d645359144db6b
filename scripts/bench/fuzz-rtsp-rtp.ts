/**
 * Fuzzing of the RTSP and RTP parsers and depacketizers. The properties are
 * shared: the unit tests run them with few cases, running this file runs
 * them with ≥100,000 each:
 *
 *   node dist/scripts/bench/fuzz-rtsp-rtp.js [runs=100000] [name-filter]
 *
 * Exits non-zero on a counterexample, printing fast-check's report (with the
 * seed to replay it).
 * Each asserts: only the module's own error type escapes, nothing buffers
 * without bound, and valid input round-trips.
 */
import fc from 'fast-check';
import { parseChallenges } from '../../firmware/media/rtsp/auth.js';
import { RtspProtocolError } from '../../firmware/media/rtsp/errors.js';
import { RtspHeaders, serializeInterleaved, serializeRequest, serializeResponse } from '../../firmware/media/rtsp/message.js';
import { RtspParser, defaultLimits, type RtspItem } from '../../firmware/media/rtsp/parser.js';
import { parseSdp } from '../../firmware/media/rtsp/sdp.js';
import { parseRtpInfo, parseSession, parseTransport } from '../../firmware/media/rtsp/transport.js';
import { AacDepacketizer, G711Depacketizer } from '../../firmware/media/rtp/audio.js';
import { MAX_UNIT_BYTES, type Depacketizer } from '../../firmware/media/rtp/depacketizer.js';
import { RtpError } from '../../firmware/media/rtp/errors.js';
import { H264Depacketizer } from '../../firmware/media/rtp/h264.js';
import { H265Depacketizer } from '../../firmware/media/rtp/h265.js';
import { buildRtp, parseRtp, type RtpPacket } from '../../firmware/media/rtp/packet.js';
import { buildReceiverReport, parseRtcp } from '../../firmware/media/rtp/rtcp.js';
import { ReorderBuffer } from '../../firmware/media/rtp/reorder.js';
import { chunked, expectOnly, isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

/** Real parameter sets from the sim camera, so depacketizers get past "no config". */
export const H264_SPROP = 'Z0LAHtoCwEmwFKDAwNSgAAADACAAAAZR4sXU,aM48gA==';
export const H265_SPROP = {
  vps: 'QAEMAf//BAgAAAMAmAgAAAMAAFq6AkA=',
  sps: 'QgEBBAgAAAMAmAgAAAMAAFqQALBAEgilLdJSYX/4AAgAC1BgYGBAAAADAEAAAAZC',
  pps: 'RAHAcDBgMSA=',
};

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[ -~]{0,40}$/).map((s) => s.trim());
const body = fc.uint8Array({ maxLength: 300 });

type Msg = { kind: 'req'; method: string; uri: string; headers: [string, string][]; body: Uint8Array } | { kind: 'res'; status: number; reason: string; headers: [string, string][]; body: Uint8Array } | { kind: 'frame'; channel: number; data: Uint8Array };

const msgArb: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({
    kind: fc.constant('req' as const),
    method: fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'GET_PARAMETER', 'TEARDOWN', 'ANNOUNCE'),
    uri: fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,20}\/[A-Za-z0-9/=_.-]{0,30}$/),
    headers: fc.array(fc.tuple(token.filter((t) => t.toLowerCase() !== 'content-length'), headerValue), { maxLength: 8 }),
    body,
  }),
  fc.record({
    kind: fc.constant('res' as const),
    status: fc.integer({ min: 100, max: 599 }),
    reason: fc.stringMatching(/^[A-Za-z ]{0,20}$/).map((s) => s.trim()),
    headers: fc.array(fc.tuple(token.filter((t) => t.toLowerCase() !== 'content-length'), headerValue), { maxLength: 8 }),
    body,
  }),
  fc.record({ kind: fc.constant('frame' as const), channel: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 2000 }) }),
);

function serialize(m: Msg): Buffer {
  if (m.kind === 'frame') return serializeInterleaved(m.channel, m.data);
  const headers = new RtspHeaders(m.headers);
  if (m.kind === 'req') return serializeRequest({ method: m.method, uri: m.uri, version: 'RTSP/1.0', headers, body: m.body });
  return serializeResponse({ version: 'RTSP/1.0', status: m.status, reason: m.reason, headers, body: m.body });
}

function same(a: Msg, b: RtspItem): boolean {
  const eq = (x: Uint8Array, y: Uint8Array): boolean => Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0;
  if (a.kind === 'frame') return b.type === 'interleaved' && b.channel === a.channel && eq(b.data, a.data);
  if (b.type === 'interleaved') return false;
  const msg = b.message;
  if (!eq(msg.body, a.body)) return false;
  const got = [...msg.headers].filter(([k]) => k.toLowerCase() !== 'content-length');
  if (JSON.stringify(got) !== JSON.stringify(a.headers)) return false;
  if (a.kind === 'req') return b.type === 'request' && b.message.method === a.method && b.message.uri === a.uri;
  return b.type === 'response' && b.message.status === a.status && b.message.reason === a.reason;
}

/** The parser's buffer bound: a full head, a full body, or one interleaved frame. */
const PARSER_BOUND = defaultLimits.maxHeadBytes + defaultLimits.maxBodyBytes + 65539 + 4;

const rtspRoundTrip = fc.property(fc.array(msgArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
  const wire = Buffer.concat(msgs.map(serialize));
  const p = new RtspParser();
  const items: RtspItem[] = [];
  for (const c of chunked(wire, cuts)) items.push(...p.push(c));
  if (items.length !== msgs.length) throw new Error(`parsed ${items.length} items, sent ${msgs.length}`);
  msgs.forEach((m, i) => {
    if (!same(m, items[i]!)) throw new Error(`item ${i} differs`);
  });
  if (p.buffered !== 0) throw new Error('bytes left over');
});

/**
 * scan(), the media path's parser, against the same wire cut anywhere: the
 * same items in the same order as push() gives. Each chunk is overwritten
 * after the call, as a reused socket buffer would be, so a frame the parser
 * kept a view of instead of copying shows up as wrong bytes.
 */
const rtspScanRoundTrip = fc.property(fc.array(msgArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
  const wire = Buffer.concat(msgs.map(serialize));
  const p = new RtspParser();
  const items: RtspItem[] = [];
  const sink = {
    interleaved: (channel: number, bytes: Uint8Array, start: number, end: number) => items.push({ type: 'interleaved', channel, data: Buffer.from(bytes.subarray(start, end)) }),
    message: (item: RtspItem) => items.push(item),
  };
  for (const c of chunked(wire, cuts)) {
    const chunk = Buffer.from(c);
    p.scan(chunk, sink);
    chunk.fill(0xaa);
  }
  if (items.length !== msgs.length) throw new Error(`scanned ${items.length} items, sent ${msgs.length}`);
  msgs.forEach((m, i) => {
    if (!same(m, items[i]!)) throw new Error(`item ${i} differs`);
  });
  if (p.buffered !== 0) throw new Error('bytes left over');
});

/** Valid messages with junk spliced in: only protocol errors, and bounded buffering. */
const rtspGarbage = fc.property(
  fc.array(fc.oneof(msgArb.map(serialize), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.constantFrom(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n'), Buffer.from('$\x07\xff\xff'), Buffer.from('\r\n'), Buffer.from('PLAY x RTSP/1.0\r\n'))), { maxLength: 8 }),
  fc.array(fc.nat(), { maxLength: 20 }),
  (parts, cuts) => {
    const p = new RtspParser();
    expectOnly(RtspProtocolError, () => {
      for (const c of chunked(Buffer.concat(parts), cuts)) {
        p.push(c);
        if (p.buffered > PARSER_BOUND) throw new Error(`parser holds ${p.buffered} bytes`);
      }
    });
  },
);

/** The same junk through scan(): only protocol errors, and bounded buffering. */
const rtspScanGarbage = fc.property(
  fc.array(fc.oneof(msgArb.map(serialize), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.constantFrom(Buffer.from('$\x07\xff\xff'), Buffer.from('\r\n'), Buffer.from('PLAY x RTSP/1.0\r\n'))), { maxLength: 8 }),
  fc.array(fc.nat(), { maxLength: 20 }),
  (parts, cuts) => {
    const p = new RtspParser();
    const sink = { interleaved: () => undefined, message: () => undefined };
    expectOnly(RtspProtocolError, () => {
      for (const c of chunked(Buffer.concat(parts), cuts)) {
        p.scan(c, sink);
        if (p.buffered > PARSER_BOUND) throw new Error(`parser holds ${p.buffered} bytes`);
      }
    });
  },
);

const sdpLine = fc.oneof(
  fc.constantFrom('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=Session', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*', 'a=range:npt=0-', 'm=video 0 RTP/AVP 96', 'm=audio 0 RTP/AVP 0 8 97', 'a=rtpmap:96 H264/90000', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHg==,aM48gA==', 'a=fmtp:97 mode=AAC-hbr;config=1188;sizelength=13', 'a=control:trackID=1', 'b=AS:5000', 'm=application 0 RTP/AVP 107'),
  fc.stringMatching(/^[a-z]=[ -~]{0,60}$/),
  fc.string({ maxLength: 60 }),
);
const sdpFuzz = fc.property(fc.array(sdpLine, { maxLength: 30 }), fc.boolean(), (lines, crlf) => {
  expectOnly(RtspProtocolError, () => parseSdp(['v=0', ...lines].join(crlf ? '\r\n' : '\n')));
  expectOnly(RtspProtocolError, () => parseSdp(lines.join('\n')));
});

const headerFuzz = fc.property(fc.string({ maxLength: 200 }), (s) => {
  parseChallenges([s]); // never throws
  parseRtpInfo(s); // never throws
  expectOnly(RtspProtocolError, () => parseTransport(s));
  expectOnly(RtspProtocolError, () => parseSession(s));
});

const rtpFuzz = fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
  expectOnly(RtpError, () => parseRtp(b));
  expectOnly(RtpError, () => parseRtcp(b));
});

const rtpRoundTrip = fc.property(
  fc.record({ payloadType: fc.integer({ min: 0, max: 127 }), marker: fc.boolean(), sequence: fc.integer({ min: 0, max: 0xffff }), timestamp: fc.integer({ min: 0, max: 0xffffffff }), ssrc: fc.integer({ min: 0, max: 0xffffffff }), payload: fc.uint8Array({ maxLength: 100 }) }),
  (p) => {
    const q = parseRtp(buildRtp(p));
    if (q.payloadType !== p.payloadType || q.marker !== p.marker || q.sequence !== p.sequence || q.timestamp !== p.timestamp || q.ssrc !== p.ssrc || Buffer.compare(Buffer.from(q.payload), Buffer.from(p.payload)) !== 0) throw new Error('RTP round trip differs');
  },
);

const rrRoundTrip = fc.property(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.array(fc.record({ ssrc: fc.integer({ min: 0, max: 0xffffffff }), fractionLost: fc.integer({ min: 0, max: 255 }), cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }), highestSeq: fc.integer({ min: 0, max: 0xffffffff }), jitter: fc.integer({ min: 0, max: 0xffffffff }), lsr: fc.integer({ min: 0, max: 0xffffffff }), dlsr: fc.integer({ min: 0, max: 0xffffffff }) }), { maxLength: 31 }),
  fc.string({ maxLength: 40 }),
  (ssrc, blocks, cname) => {
    const [rr, sdes] = parseRtcp(buildReceiverReport(ssrc, blocks, cname));
    if (rr?.type !== 'rr' || rr.ssrc !== ssrc || JSON.stringify(rr.reports) !== JSON.stringify(blocks) || sdes?.type !== 'other') throw new Error('RR round trip differs');
  },
);

/** Random packets of a stream: plausible headers, payloads biased toward each format's packet types. */
const packetsArb = (firstBytes: number[]): fc.Arbitrary<RtpPacket[]> =>
  fc.array(
    fc.record({
      seqStep: fc.oneof(fc.constant(1), fc.integer({ min: -3, max: 40000 })),
      tsStep: fc.oneof(fc.constant(0), fc.constant(3600), fc.integer({ min: 0, max: 0xffffffff })),
      marker: fc.boolean(),
      head: fc.constantFrom(...firstBytes),
      rest: fc.uint8Array({ maxLength: 120 }),
    }),
    { maxLength: 60 },
  ).map((steps) => {
    let seq = 100;
    let ts = 1000;
    return steps.map((s) => {
      seq = (seq + s.seqStep) & 0xffff;
      ts = (ts + s.tsStep) >>> 0;
      const payload = new Uint8Array([s.head, ...s.rest]);
      return { payloadType: 96, marker: s.marker, sequence: seq, timestamp: ts, ssrc: 1, csrc: [], payload };
    });
  });

/** Feeds packets; checks units are well-formed length-prefixed NAL lists (or bounded audio frames). */
function feed(dep: Depacketizer, packets: RtpPacket[], nal: boolean): void {
  for (const p of packets) {
    for (const u of dep.push(p)) {
      if (u.data.length > MAX_UNIT_BYTES + 4 * 1024) throw new Error('oversized unit');
      if (!nal) continue;
      let o = 0;
      const dv = new DataView(u.data.buffer, u.data.byteOffset, u.data.byteLength);
      while (o < u.data.length) {
        const len = dv.getUint32(o);
        if (len === 0 || o + 4 + len > u.data.length) throw new Error('bad length prefix');
        o += 4 + len;
      }
    }
  }
}

const h264Fuzz = fc.property(packetsArb([0x65, 0x41, 0x67, 0x68, 0x18, 0x1c, 0x7c, 0x5c, 0x19, 0x1a, 0x00, 0x80]), (pk) =>
  feed(new H264Depacketizer(H264_SPROP), pk, true),
);
const h265Fuzz = fc.property(packetsArb([0x26, 0x02, 0x40, 0x42, 0x44, 0x60, 0x62, 0x64, 0x00, 0x80]), (pk) => {
  // Keep the second header byte valid often enough to reach the FU/AP code.
  for (const p of pk) if (p.payload.length > 1 && p.sequence & 1) p.payload[1] = 1;
  feed(new H265Depacketizer(H265_SPROP), pk, true);
});
const aacFuzz = fc.property(packetsArb([0x00, 0x10, 0x20, 0xff]), (pk) => {
  feed(new AacDepacketizer({ clockRate: 48000, fmtp: { config: '1188', sizelength: '13', indexlength: '3', indexdeltalength: '3' } }), pk, false);
  feed(new G711Depacketizer('pcma'), pk, false);
});

/** Any NAL units, packetized as a camera would, come out as sent. */
const h264RoundTrip = fc.property(
  fc.array(
    fc.record({
      nals: fc.array(fc.tuple(fc.constantFrom(1, 5, 6, 9), fc.uint8Array({ minLength: 1, maxLength: 3000 })), { minLength: 1, maxLength: 5 }),
      mtu: fc.integer({ min: 20, max: 1400 }),
      stap: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  (units) => {
    const dep = new H264Depacketizer(H264_SPROP);
    units[0]!.nals[0]![0] = 5; // start on a keyframe, as the depacketizer requires
    let seq = 65530; // cross the wrap
    let ts = 0xffffff00;
    for (const u of units) {
      const nals = u.nals.map(([type, body]) => new Uint8Array([0x60 | type, ...body]));
      const payloads = packetizeH264(nals, u.mtu, u.stap);
      const out = payloads.flatMap((payload, i) => dep.push({ payloadType: 96, marker: i === payloads.length - 1, sequence: (seq++) & 0xffff, timestamp: ts, ssrc: 1, csrc: [], payload }));
      ts = (ts + 3600) >>> 0;
      if (out.length !== 1) throw new Error(`expected one unit, got ${out.length}`);
      const expect = Buffer.concat(nals.flatMap((n) => [lengthOf(n), Buffer.from(n)]));
      if (Buffer.compare(Buffer.from(out[0]!.data), expect) !== 0) throw new Error('unit differs from the NALs sent');
      if (out[0]!.keyframe !== nals.some((n) => (n[0]! & 0x1f) === 5)) throw new Error('keyframe flag wrong');
    }
  },
);

function lengthOf(n: Uint8Array): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n.length);
  return b;
}

/** RFC 6184 packetization: NALs over the MTU as FU-A, small ones alone or aggregated in STAP-A. */
export function packetizeH264(nals: Uint8Array[], mtu: number, stap: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  let agg: Uint8Array[] = [];
  const flush = (): void => {
    if (agg.length === 1) out.push(agg[0]!);
    else if (agg.length > 1) out.push(new Uint8Array([(agg[0]![0]! & 0x60) | 24, ...agg.flatMap((n) => [n.length >> 8, n.length & 0xff, ...n])]));
    agg = [];
  };
  for (const n of nals) {
    if (n.length > mtu) {
      flush();
      for (let o = 1; o < n.length; o += mtu - 2) {
        const s = o === 1 ? 0x80 : 0;
        const e = o + mtu - 2 >= n.length ? 0x40 : 0;
        out.push(new Uint8Array([(n[0]! & 0xe0) | 28, s | e | (n[0]! & 0x1f), ...n.subarray(o, o + mtu - 2)]));
      }
    } else if (stap && agg.reduce((s, a) => s + a.length + 2, 1) + n.length + 2 <= mtu) {
      agg.push(n);
    } else {
      flush();
      if (stap) agg.push(n);
      else out.push(n);
    }
  }
  flush();
  return out;
}

const reorderFuzz = fc.property(fc.array(fc.tuple(fc.integer({ min: -50, max: 300 }), fc.nat(400)), { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (steps, capacity) => {
  const rb = new ReorderBuffer(capacity, 100);
  let seq = 65000;
  let now = 0;
  let lastOut: number | undefined;
  const check = (seqs: number[]): void => {
    for (const s of seqs) {
      if (lastOut !== undefined && ((s - lastOut) & 0xffff) === 0) throw new Error('released twice');
      lastOut = s;
    }
  };
  for (const [d, dt] of steps) {
    seq = (seq + d) & 0xffff;
    now += dt;
    check(rb.push({ payloadType: 96, marker: false, sequence: seq, timestamp: 0, ssrc: 1, csrc: [], payload: new Uint8Array(1) }, now).map((r) => r.packet.sequence));
    if (rb.size > capacity) throw new Error(`holds ${rb.size} > ${capacity}`);
  }
  check(rb.poll(now + 1000).map((r) => r.packet.sequence));
  if (rb.size !== 0) throw new Error('held past the delay');
});

export const rtspRtpProperties: NamedProperty[] = [
  { name: 'rtsp-parser-roundtrip-chunked', property: rtspRoundTrip },
  { name: 'rtsp-parser-scan-roundtrip', property: rtspScanRoundTrip },
  { name: 'rtsp-parser-garbage', property: rtspGarbage },
  { name: 'rtsp-parser-scan-garbage', property: rtspScanGarbage },
  { name: 'rtsp-sdp', property: sdpFuzz },
  { name: 'rtsp-headers', property: headerFuzz },
  { name: 'rtp-rtcp-parse', property: rtpFuzz },
  { name: 'rtp-roundtrip', property: rtpRoundTrip },
  { name: 'rtcp-rr-roundtrip', property: rrRoundTrip },
  { name: 'rtp-h264-depacketizer', property: h264Fuzz },
  { name: 'rtp-h264-roundtrip', property: h264RoundTrip },
  { name: 'rtp-h265-depacketizer', property: h265Fuzz },
  { name: 'rtp-audio-depacketizers', property: aacFuzz },
  { name: 'rtp-reorder-buffer', property: reorderFuzz },
];

// Run only when executed, not when the tests import the properties.
if (isMain(import.meta.url)) await runFuzz('fuzz-rtsp-rtp', rtspRtpProperties);
