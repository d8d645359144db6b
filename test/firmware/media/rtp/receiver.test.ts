import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { H264_SPROP } from '../../../../scripts/bench/fuzz-rtsp-rtp.js';
import { MAX_UNIT_BYTES } from '../../../../firmware/media/rtp/depacketizer.js';
import { H264Depacketizer } from '../../../../firmware/media/rtp/h264.js';
import { buildRtp } from '../../../../firmware/media/rtp/packet.js';
import { parseRtcp } from '../../../../firmware/media/rtp/rtcp.js';
import { RtpReceiver } from '../../../../firmware/media/rtp/receiver.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';

// What the depacketizer retains is measured after a full collection: the packets the loop
// allocates are garbage the collector may not have reached yet, which says nothing of a leak.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retained = (): number => (gc(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);

const IDR = [0x65, 0x88, 0x84];
const P = [0x41, 0x9a];

function setup(reorder = false) {
  let now = 1_000_000;
  const events: (['info', StreamInfo] | ['frame', Frame] | ['bye', string | undefined])[] = [];
  const r = new RtpReceiver({
    depacketizer: new H264Depacketizer(),
    payloadType: 96,
    reorder,
    now: () => now,
    ssrc: 42,
    onFrame: (f) => events.push(['frame', f]),
    onInfo: (i) => events.push(['info', i]),
    onBye: (reason) => events.push(['bye', reason]),
  });
  const send = (seq: number, ts: number, payload: number[], marker = true, ssrc = 7, pt = 96): void =>
    r.handleRtp(buildRtp({ payloadType: pt, marker, sequence: seq, timestamp: ts, ssrc, payload: Uint8Array.from(payload) }));
  return { r, events, send, advance: (ms: number) => (now += ms) };
}

const stap = (nals: Uint8Array[]): number[] => [0x78, ...nals.flatMap((n) => [n.length >> 8, n.length & 0xff, ...n])];
const [SPS, PPS] = H264_SPROP.split(',').map((b) => new Uint8Array(Buffer.from(b, 'base64'))) as [Uint8Array, Uint8Array];

t.test('info comes before the first frame; times follow the timestamps', async (t) => {
  const { events, send } = setup();
  send(1, 90000, stap([SPS, PPS, Uint8Array.from(IDR)]));
  send(2, 93600, P);
  t.same(events.map((e) => e[0]), ['info', 'frame', 'frame']);
  const [, f1] = events[1] as ['frame', Frame];
  const [, f2] = events[2] as ['frame', Frame];
  t.equal(f1.time, 1_000_000_000, 'first frame at its arrival (µs)');
  t.equal(f2.time - f1.time, 40_000);
});

t.test('foreign payload types, garbage and an SSRC change', async (t) => {
  const { r, events, send } = setup();
  send(1, 0, stap([SPS, PPS, Uint8Array.from(IDR)]));
  send(2, 3600, P, true, 7, 97);
  r.handleRtp(new Uint8Array([1, 2, 3]));
  r.handleRtcp(new Uint8Array([1, 2, 3]));
  t.match(r.stats, { packets: 1, foreign: 1, malformed: 2 });
  send(500, 77777, P, true, 8); // camera restarted its stream
  t.equal(r.stats.ssrcChanges, 1);
  t.equal(r.senderSsrc, 8);
  t.equal(events.filter((e) => e[0] === 'frame').length, 2);
});

t.test('BYE from the sender; RR is about the sender', async (t) => {
  const { r, events, send } = setup();
  t.equal(r.receiverReport(), undefined, 'nothing to report before a packet');
  send(1, 0, IDR);
  r.handleRtcp(Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 7]));
  t.same(events.at(-1), ['bye', undefined]);
  const [rr] = parseRtcp(r.receiverReport()!);
  t.match(rr, { type: 'rr', ssrc: 42, reports: [{ ssrc: 7, highestSeq: 1 }] });
});

t.test('over UDP, reordered packets are put back in order', async (t) => {
  const { r, events, send, advance } = setup(true);
  send(1, 0, stap([SPS, PPS, Uint8Array.from(IDR)]));
  send(3, 7200, P);
  send(2, 3600, P);
  t.same(events.filter((e) => e[0] === 'frame').map((e) => (e[1] as Frame).time), [1e9, 1e9 + 40000, 1e9 + 80000]);
  send(5, 14400, P);
  advance(500);
  r.poll();
  t.equal(events.filter((e) => e[0] === 'frame').length, 4, 'a lost packet is given up on after the delay');
  t.equal(r.healthSnapshot().lostPackets, 1);
});

t.test('a fragmented NAL beyond the size limit is dropped; memory stays bounded', async (t) => {
  const d = new H264Depacketizer(H264_SPROP);
  const chunk = new Uint8Array(60000);
  let seq = 0;
  d.push({ payloadType: 96, marker: false, sequence: seq++, timestamp: 1, ssrc: 1, csrc: [], payload: Uint8Array.from([0x7c, 0x85, ...chunk.subarray(0, 10)]) });
  const body = Uint8Array.from([0x7c, 0x05, ...chunk]);
  const n = Math.ceil((5 * MAX_UNIT_BYTES) / chunk.length);
  const heapBefore = retained();
  for (let i = 0; i < n; i++) d.push({ payloadType: 96, marker: false, sequence: seq++, timestamp: 1, ssrc: 1, csrc: [], payload: body.slice() });
  const out = d.push({ payloadType: 96, marker: true, sequence: seq++, timestamp: 1, ssrc: 1, csrc: [], payload: Uint8Array.from([0x7c, 0x45, 1]) });
  t.same(out, [], 'the oversized unit is not emitted');
  t.equal(d.stats.dropped, 1);
  const grown = retained() - heapBefore;
  t.ok(grown < 3 * MAX_UNIT_BYTES, `grew ${Math.round(grown / 1e6)} MB for ${Math.round((n * chunk.length) / 1e6)} MB sent`);
  const next = d.push({ payloadType: 96, marker: true, sequence: seq++, timestamp: 2, ssrc: 1, csrc: [], payload: Uint8Array.from(IDR) });
  t.equal(next.length, 1, 'the stream recovers at the next unit');
});
