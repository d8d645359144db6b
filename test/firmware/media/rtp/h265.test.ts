import t from 'tap';
import { H265_SPROP } from '../../../../scripts/bench/fuzz-rtsp-rtp.js';
import { unescapeRbsp } from '../../../../firmware/media/bits.js';
import { h265Config } from '../../../../firmware/media/rtp/codec-config.js';
import { H265Depacketizer } from '../../../../firmware/media/rtp/h265.js';
import type { RtpPacket } from '../../../../firmware/media/rtp/packet.js';

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const [VPS, SPS, PPS] = [b64(H265_SPROP.vps), b64(H265_SPROP.sps), b64(H265_SPROP.pps)];
const IDR = Uint8Array.from([0x26, 0x01, 0xaf, 0x11, 0x22]); // type 19 IDR_W_RADL
const TRAIL = Uint8Array.from([0x02, 0x01, 0xd0, 0x33]); // type 1

let seq = 40000;
const pkt = (payload: number[] | Uint8Array, ts: number, marker = true): RtpPacket => ({
  payloadType: 96, marker, sequence: seq++ & 0xffff, timestamp: ts, ssrc: 1, csrc: [], payload: Uint8Array.from(payload),
});
const prefixed = (...nals: Uint8Array[]): number[] => nals.flatMap((n) => [0, 0, n.length >> 8, n.length & 0xff, ...n]);

t.test('SPS of the sim camera: 704x576; hvcC with VPS/SPS/PPS arrays', async (t) => {
  t.match(h265Config(VPS, SPS, PPS), { width: 704, height: 576 });
  t.throws(() => h265Config(VPS, SPS.subarray(0, 10), PPS), { name: 'RtpError' }, 'MediaFormatError of ../h265.ts becomes RtpError');
  const d = new H265Depacketizer(H265_SPROP);
  t.match(d.info, { codec: 'h265', width: 704, height: 576 });
  const c = d.info!.config;
  t.equal(c[0], 1);
  t.equal(c[21]! & 3, 3, '4-byte NAL lengths');
  t.equal(c[22], 3, 'three arrays');
  t.same([...c.subarray(1, 13)], [...unescapeRbsp(SPS.subarray(2)).subarray(1, 13)], 'profile_tier_level copied from the SPS (emulation prevention removed)');
});

t.test('aggregation packet with parameter sets and IDR, then FU, then single NAL', async (t) => {
  const d = new H265Depacketizer();
  const ap = [0x60, 0x01, ...[VPS, SPS, PPS, IDR].flatMap((n) => [n.length >> 8, n.length & 0xff, ...n])];
  const out = d.push(pkt(ap, 0));
  t.match(d.info, { width: 704, height: 576 });
  t.same(out.map((u) => [u.keyframe, [...u.data]]), [[true, prefixed(IDR)]]);
  // FU of a TRAIL_R: payload header type 49 with the original layer/tid byte.
  const body = Array.from({ length: 100 }, (_, i) => i);
  t.same(d.push(pkt([0x62, 0x01, 0x81, ...body.slice(0, 60)], 3600, false)), []);
  const fu = d.push(pkt([0x62, 0x01, 0x41, ...body.slice(60)], 3600));
  t.same([...fu[0]!.data], prefixed(Uint8Array.from([0x02, 0x01, ...body])));
  t.equal(fu[0]!.keyframe, false);
  t.same([...d.push(pkt(TRAIL, 7200))[0]!.data], prefixed(TRAIL));
});

t.test('lost FU start: the fragments are dropped, the next unit is fine', async (t) => {
  const d = new H265Depacketizer(H265_SPROP);
  d.push(pkt(IDR, 0));
  seq++;
  t.same(d.push(pkt([0x62, 0x01, 0x41, 1, 2, 3], 3600)), []);
  t.equal(d.stats.lost, 1);
  t.equal(d.push(pkt(TRAIL, 7200)).length, 1);
  d.push(pkt([0x64, 0x01, 0], 0)); // PACI: unsupported
  d.push(pkt([0x60, 0x01, 0, 9, 1], 0)); // AP size overruns
  t.equal(d.stats.malformed, 2);
});
