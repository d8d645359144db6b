import t from 'tap';
import { AacDepacketizer, G711Depacketizer, parseAudioSpecificConfig } from '../../../../firmware/media/rtp/audio.js';
import { createDepacketizer } from '../../../../firmware/media/rtp/factory.js';
import type { RtpPacket } from '../../../../firmware/media/rtp/packet.js';

let seq = 0;
const pkt = (payload: number[], ts: number, marker = true): RtpPacket => ({
  payloadType: 97, marker, sequence: seq++, timestamp: ts, ssrc: 1, csrc: [], payload: Uint8Array.from(payload),
});
/** AU headers (13-bit size, 3-bit index 0) for AAC-hbr. */
const auHeaders = (sizes: number[]): number[] => [0, sizes.length * 16, ...sizes.flatMap((s) => [s >> 5, (s & 0x1f) << 3])];
const fmtp = { mode: 'AAC-hbr', config: '1188', sizelength: '13', indexlength: '3', indexdeltalength: '3', streamtype: '5' };

t.test('AudioSpecificConfig 1188: AAC LC 48 kHz mono', async (t) => {
  t.same(parseAudioSpecificConfig(Uint8Array.from([0x11, 0x88])), { objectType: 2, sampleRate: 48000, channels: 1 });
  t.same(parseAudioSpecificConfig(Uint8Array.from([0x12, 0x10])), { objectType: 2, sampleRate: 44100, channels: 2 });
  t.throws(() => parseAudioSpecificConfig(Uint8Array.from([0x16, 0x80])), { name: 'RtpError', message: /reserved/ });
});

t.test('several AUs in one packet get consecutive timestamps', async (t) => {
  const d = createDepacketizer({ payloadType: 97, encoding: 'mpeg4-generic', clockRate: 48000, fmtp });
  t.match(d.info, { codec: 'aac', sampleRate: 48000, channels: 1 });
  const out = d.push(pkt([...auHeaders([3, 2]), 1, 2, 3, 4, 5], 1000));
  t.same(out.map((u) => [u.timestamp, [...u.data]]), [[1000, [1, 2, 3]], [2024, [4, 5]]]);
});

t.test('one AU fragmented over packets up to the marker', async (t) => {
  const d = new AacDepacketizer({ clockRate: 48000, fmtp });
  t.same(d.push(pkt([...auHeaders([5]), 1, 2], 0, false)), []);
  const out = d.push(pkt([...auHeaders([5]), 3, 4, 5], 0, true));
  t.same(out.map((u) => [...u.data]), [[1, 2, 3, 4, 5]]);
});

t.test('bad payloads are counted; bad fmtp is refused up front', async (t) => {
  const d = new AacDepacketizer({ clockRate: 48000, fmtp });
  d.push(pkt([0, 16, 0xff, 0xf8, 1], 0)); // AU of 8191 bytes, not fragmented
  d.push(pkt([0, 200], 0)); // headers overrun
  t.equal(d.stats.malformed, 2, 'an AU bigger than its packet ending at the marker, and headers overrunning the payload');
  t.same(d.push(pkt([...auHeaders([1]), 7], 1024)).map((u) => [...u.data]), [[7]], 'the half fragment is dropped, the next AU is fine');
  t.throws(() => createDepacketizer({ payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 48000, fmtp: { ...fmtp, config: 'zz' } }), { name: 'RtpError' });
  t.throws(() => createDepacketizer({ payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 48000, fmtp: { ...fmtp, mode: 'CELP-cbr' } }), /not AAC/);
  t.throws(() => createDepacketizer({ payloadType: 98, encoding: 'VP8', clockRate: 90000 }), /not a supported codec/);
});

t.test('G.711 by static payload type: each packet is one frame', async (t) => {
  const a = createDepacketizer({ payloadType: 8 });
  const u = createDepacketizer({ payloadType: 0 });
  t.match(a.info, { codec: 'pcma', sampleRate: 8000, channels: 1 });
  t.match(u.info, { codec: 'pcmu' });
  t.equal(a.clockRate, 8000);
  const out = a.push(pkt(Array.from({ length: 160 }, () => 0xd5), 160));
  t.equal(out[0]!.data.length, 160);
  t.equal(out[0]!.keyframe, true);
  t.ok(new G711Depacketizer('pcmu').push(pkt([], 0)).length === 0);
});
