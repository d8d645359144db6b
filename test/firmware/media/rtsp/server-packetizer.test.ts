/**
 * The RTP packetizers and SDP of the RTSP server, judged by the firmware's
 * own depacketizers (which are judged against gst-rtsp-server elsewhere):
 * what goes out must come back byte for byte, for real encoder output and
 * for arbitrary NAL sizes (fast-check).
 */
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinLengthPrefixed } from '../../../../firmware/media/nal.js';
import { createDepacketizer } from '../../../../firmware/media/rtp/factory.js';
import { parseRtp } from '../../../../firmware/media/rtp/packet.js';
import { aacPayload, h264Payloads, h265Payloads, lengthPrefixedNals, RtpPacketizer } from '../../../../firmware/media/rtp/packetizer.js';
import { buildSenderReport } from '../../../../firmware/media/rtp/packetizer-rtcp.js';
import { parseRtcp } from '../../../../firmware/media/rtp/rtcp.js';
import { parseFmtpParams, parseSdp } from '../../../../firmware/media/rtsp/sdp.js';
import { buildSdp, describeTrack } from '../../../../firmware/media/rtsp/server-sdp.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';
import { encodeAac, encodeVideo, type Track } from '../../restream/media.js';

const dir = mkdtempSync(join(tmpdir(), 'pktz-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Packetizes every frame (parameter sets in-band before keyframes) and depacketizes it again. */
function roundTrip(track: Track, maxPayload: number): { units: { timestamp: number; keyframe: boolean; data: Uint8Array }[]; info: StreamInfo | undefined } {
  const desc = describeTrack(track.info, 96);
  const dep = createDepacketizer({ payloadType: desc.payloadType, encoding: desc.rtpmap.split('/')[0], clockRate: desc.clockRate, fmtp: parseFmtpParams(desc.fmtp) });
  const p = new RtpPacketizer({ codec: track.info.codec, payloadType: desc.payloadType, clockRate: desc.clockRate, ssrc: 0x1234, sequence: 65530, timestamp: 0xfffff000, maxPayload });
  const units = [];
  for (const f of track.frames) {
    const video = track.info.codec === 'h264' || track.info.codec === 'h265';
    const nals = video ? lengthPrefixedNals(f.data) : [f.data];
    if (video && f.keyframe) nals.unshift(...desc.parameterSets);
    for (const pkt of p.packetize(f.time, nals)) units.push(...dep.push(parseRtp(pkt)));
  }
  return { units, info: dep.info };
}

for (const codec of ['h264', 'h265'] as const) {
  t.test(`${codec}: encoder output survives packetizing, with and without fragmentation`, async (t) => {
    const track = await encodeVideo(dir, codec, 2);
    for (const max of [1400, 300]) {
      const { units, info } = roundTrip(track, max);
      t.equal(units.length, track.frames.length, `max ${max}: every frame came back`);
      t.ok(units.every((u, i) => Buffer.compare(u.data, track.frames[i]!.data) === 0 && u.keyframe === track.frames[i]!.keyframe), 'byte for byte, keyframes marked');
      t.ok(units.slice(1).every((u, i) => ((u.timestamp - units[i]!.timestamp) >>> 0) === 3600), '40 ms apart at 90 kHz, across the 32-bit wrap');
      t.same(info?.config, track.info.config, 'the receiver rebuilt the same decoder configuration');
    }
    const sdp = parseSdp(buildSdp([describeTrack(track.info, 96)], { sessionId: '1', address: '127.0.0.1', name: 'cam1/main' }));
    t.equal(sdp.media[0]?.rtpmap.get(96)?.encoding, codec.toUpperCase(), 'the SDP names the codec');
    t.equal(sdp.media[0]?.control, 'trackID=0', 'and the track control');
  });
}

t.test('AAC (RFC 3640) and G.711 round trips', async (t) => {
  const aac = await encodeAac(dir, 1);
  const { units, info } = roundTrip(aac, 1400);
  t.equal(units.length, aac.frames.length, 'every AAC frame came back');
  t.ok(units.every((u, i) => Buffer.compare(u.data, aac.frames[i]!.data) === 0), 'byte for byte');
  t.equal(info?.sampleRate, 48000, 'the SDP config describes the audio');
  t.throws(() => aacPayload(new Uint8Array(9000)), /13-bit/, 'an AU too big for RFC 3640 is refused');
  const samples: Frame[] = [0, 1, 2].map((i) => ({ time: i * 20_000, keyframe: true, data: new Uint8Array(160).fill(i + 1) }));
  for (const codec of ['pcma', 'pcmu'] as const) {
    const g = roundTrip({ info: { codec, config: new Uint8Array(0), sampleRate: 8000, channels: 1 }, frames: samples }, 1400);
    t.same(g.units.map((u) => u.data[0]), [1, 2, 3], `${codec}: samples come back`);
    t.equal(describeTrack({ codec, config: new Uint8Array(0) }, 96).payloadType, codec === 'pcmu' ? 0 : 8, `${codec}: static payload type`);
  }
  t.throws(() => describeTrack({ codec: 'h264', config: new Uint8Array([1, 2]) }, 96), /cannot describe/, 'a broken avcC is a clear error');
  t.throws(() => describeTrack({ codec: 'h265', config: new Uint8Array([1]) }, 96), /cannot describe/, 'so is a broken hvcC');
});

t.test('a sender report says what time an RTP timestamp is', async (t) => {
  const sr = buildSenderReport({ ssrc: 7, timeUs: 1_700_000_000_500_000, rtpTimestamp: 1234, packets: 10, octets: 999, cname: 'dvr' });
  const [p] = parseRtcp(sr);
  t.match(p, { type: 'sr', ssrc: 7, rtpTimestamp: 1234, packetCount: 10, octetCount: 999 }, 'parses back');
});

t.test('property: arbitrary NAL units come back whole through single-NAL and FU packets', async (t) => {
  const h264 = await encodeVideo(dir, 'h264', 1);
  const key = h264.frames[0]!;
  const desc = describeTrack(h264.info, 96);
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 20, max: 1400 }),
      (bodies, max) => {
        const dep = createDepacketizer({ payloadType: 96, encoding: 'H264', clockRate: 90000, fmtp: parseFmtpParams(desc.fmtp) });
        const p = new RtpPacketizer({ codec: 'h264', payloadType: 96, clockRate: 90000, ssrc: 1, sequence: 0, timestamp: 0, maxPayload: max });
        for (const pkt of p.packetize(0, [...desc.parameterSets, ...lengthPrefixedNals(key.data)])) dep.push(parseRtp(pkt));
        // Non-IDR slices (type 1, nal_ref_idc 2): any body.
        const nals = bodies.map((b) => Uint8Array.from([0x41, ...b]));
        const out = p.packetize(40_000, nals).flatMap((pkt) => dep.push(parseRtp(pkt)));
        return out.length === 1 && Buffer.compare(out[0]!.data, joinLengthPrefixed(nals)) === 0;
      },
    ),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 6000 }), fc.integer({ min: 20, max: 1400 }), (nal, max) => {
      const parts = h265Payloads(nal, max);
      const again = parts.length === 1 ? parts[0]! : Uint8Array.from([(nal[0]! & 0x81) | (((parts[0]![2]! & 0x3f) << 1) & 0x7e), nal[1]!, ...parts.flatMap((x) => [...x.subarray(3)])]);
      const h = h264Payloads(nal, max);
      const again264 = h.length === 1 ? h[0]! : Uint8Array.from([(h[0]![0]! & 0xe0) | (h[0]![1]! & 0x1f), ...h.flatMap((x) => [...x.subarray(2)])]);
      return parts.every((x) => x.length <= max) && h.every((x) => x.length <= max) && Buffer.compare(again, nal) === 0 && Buffer.compare(again264, nal) === 0;
    }),
    { numRuns: 300 },
  );
  t.same(lengthPrefixedNals(Uint8Array.from([0, 0, 0, 9, 1])), [], 'a length overrunning the buffer ends the list');
  t.same(h264Payloads(new Uint8Array(0)), [], 'empty NAL: nothing to send');
  t.same(h265Payloads(new Uint8Array(1)), [], 'a 1-byte H.265 NAL has no header: nothing to send');
});
