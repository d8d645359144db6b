import t from 'tap';
import { H264_SPROP } from '../../../../scripts/bench/fuzz-rtsp-rtp.js';
import { unescapeRbsp } from '../../../../firmware/media/bits.js';
import { h264Config } from '../../../../firmware/media/rtp/codec-config.js';
import { H264Depacketizer } from '../../../../firmware/media/rtp/h264.js';
import type { RtpPacket } from '../../../../firmware/media/rtp/packet.js';

const [SPS, PPS] = H264_SPROP.split(',').map((b) => new Uint8Array(Buffer.from(b, 'base64'))) as [Uint8Array, Uint8Array];
const IDR = new Uint8Array([0x65, 0x88, 0x84, 0x00, 0x33]);
const P = new Uint8Array([0x41, 0x9a, 0x02]);

let seq = 1;
const pkt = (payload: number[] | Uint8Array, ts: number, marker = false, sequence = seq++): RtpPacket => ({
  payloadType: 96, marker, sequence, timestamp: ts, ssrc: 1, csrc: [], payload: Uint8Array.from(payload),
});
const prefixed = (...nals: Uint8Array[]): number[] => nals.flatMap((n) => [0, 0, n.length >> 8, n.length & 0xff, ...n]);
const stapA = (...nals: Uint8Array[]): number[] => [0x78, ...nals.flatMap((n) => [n.length >> 8, n.length & 0xff, ...n])];

t.test('SPS of the sim camera: 704x576, avcC carries SPS and PPS', async (t) => {
  const c = h264Config(SPS, PPS);
  t.match(c, { width: 704, height: 576 });
  t.equal(c.config[0], 1);
  t.equal(c.config[1], 66, 'Baseline profile, from the SPS');
  t.equal(c.config[4], 0xff, '4-byte NAL lengths');
  t.same([...c.config.subarray(8, 8 + SPS.length)], [...SPS]);
  t.same([...unescapeRbsp(Uint8Array.from([1, 0, 0, 3, 1, 0, 0, 3]))], [1, 0, 0, 1, 0, 0]);
  t.throws(() => h264Config(Uint8Array.from([0x67, 0x42]), PPS), { name: 'RtpError' }, 'MediaFormatError of ../h264.ts becomes RtpError');
  t.throws(() => h264Config(PPS, PPS), { name: 'RtpError' }, 'not an SPS');
});

t.test('STAP-A with parameter sets and IDR, then single NAL P frame', async (t) => {
  const d = new H264Depacketizer();
  t.equal(d.info, undefined, 'no info before SPS/PPS');
  const out1 = d.push(pkt(stapA(SPS, PPS, IDR), 3000, true));
  t.match(d.info, { codec: 'h264', width: 704, height: 576 });
  t.equal(out1.length, 1);
  t.same([...out1[0]!.data], prefixed(IDR), 'parameter sets are not in the sample');
  t.equal(out1[0]!.keyframe, true);
  const out2 = d.push(pkt(P, 6000, true));
  t.same(out2.map((u) => [u.timestamp, u.keyframe, [...u.data]]), [[6000, false, prefixed(P)]]);
});

t.test('FU-A reassembly; boundary on timestamp change when the marker is missing', async (t) => {
  const d = new H264Depacketizer(H264_SPROP);
  const big = Uint8Array.from([0x65, ...Array.from({ length: 3000 }, (_, i) => i & 0xff)]);
  const frag = (s: boolean, e: boolean, body: Uint8Array): number[] => [0x7c, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 5, ...body];
  t.same(d.push(pkt(frag(true, false, big.subarray(1, 1001)), 100)), []);
  t.same(d.push(pkt(frag(false, false, big.subarray(1001, 2001)), 100)), []);
  t.same(d.push(pkt(frag(false, true, big.subarray(2001)), 100)), [], 'no marker yet');
  const out = d.push(pkt(P, 3700));
  t.equal(out.length, 1, 'the next timestamp ends the unit');
  t.same([...out[0]!.data], prefixed(big));
  t.equal(out[0]!.timestamp, 100);
});

t.test('a lost FU-A fragment drops that NAL, not the stream', async (t) => {
  const d = new H264Depacketizer(H264_SPROP);
  d.push(pkt(IDR, 0, true));
  const slice = [0x41, 1, 2, 3, 4, 5, 6];
  d.push(pkt([0x5c, 0x81, ...slice.slice(1, 3)], 3600));
  seq++; // the middle fragment is lost
  const out = d.push(pkt([0x5c, 0x41, ...slice.slice(5)], 3600, true));
  t.same(out, [], 'nothing usable in that unit');
  t.equal(d.stats.lost, 1);
  const next = d.push(pkt(P, 7200, true));
  t.same([...next[0]!.data], prefixed(P), 'the stream continues');
});

t.test('waits for a keyframe; in-band SPS change updates the info', async (t) => {
  const d = new H264Depacketizer(H264_SPROP);
  t.same(d.push(pkt(P, 0, true)), [], 'P frame before any keyframe is dropped');
  t.equal(d.stats.dropped, 1);
  const before = d.info;
  d.push(pkt(stapA(SPS, PPS, IDR), 3600, true));
  t.equal(d.info, before, 'same parameter sets: same info object');
  const pps2 = Uint8Array.from([0x68, 0xce, 0x3c, 0x81]);
  d.push(pkt(stapA(pps2, IDR), 7200, true));
  t.not(d.info, before, 'new PPS: new info');
  t.ok(Buffer.from(d.info!.config).includes(Buffer.from(pps2)));
});

t.test('malformed payloads are counted, never thrown', async (t) => {
  const d = new H264Depacketizer(H264_SPROP);
  d.push(pkt([0x78, 0, 50, 0x65], 0)); // STAP-A size overruns
  d.push(pkt([0x7c], 0)); // FU-A without header
  d.push(pkt([0x79, 1, 2], 0)); // STAP-B
  d.push(pkt([0xe5, 1], 0)); // forbidden bit
  d.push(pkt([], 0));
  t.equal(d.stats.malformed, 5);
});
