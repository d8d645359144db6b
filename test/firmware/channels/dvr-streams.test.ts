// A stream's size and rate on a capture: the plan, and the frame-rate gate
// that picks frames by timestamp, over long runs, jitter and gaps.
import t from 'tap';
import type { CaptureGeometry } from '../../../firmware/channels/dvr-capture.js';
import { FrameRateGate, planStream, StreamPlanError } from '../../../firmware/channels/dvr-streams.js';

const pal: CaptureGeometry = { width: 704, height: 576, format: 'nv12', bytesperline: 704, frameBytes: (704 * 576 * 3) / 2, fps: { num: 25, den: 1 }, standard: 'pal' };
const ntsc: CaptureGeometry = { ...pal, height: 480, frameBytes: (704 * 480 * 3) / 2, fps: { num: 30000, den: 1001 }, standard: 'ntsc' };

/** Kept frame times of a capture at `periodUs` for `seconds`, with an optional jitter per frame. */
function run(gate: FrameRateGate, periodUs: number, seconds: number, jitter: (i: number) => number = () => 0): number[] {
  const kept: number[] = [];
  const n = Math.round((seconds * 1e6) / periodUs);
  for (let i = 0; i < n; i++) {
    const pts = Math.round(i * periodUs + jitter(i));
    if (gate.keep(pts)) kept.push(pts);
  }
  return kept;
}

t.test('sizes: D1 the capture, CIF and QCIF one and two 2:1 passes', async (t) => {
  t.match(planStream(pal, 'D1', null), { width: 704, height: 576, passes: 0, fps: 25, gate: null });
  t.match(planStream(pal, 'CIF', undefined), { width: 352, height: 288, passes: 1, fps: 25, gate: null });
  t.match(planStream(ntsc, 'QCIF', null), { width: 176, height: 120, passes: 2, fps: '30000/1001', gate: null });
  t.match(planStream({ ...pal, width: 720 }, 'QCIF', 6), { width: 180, height: 144, fps: 6 });
  t.throws(() => planStream({ ...pal, width: 708 }, 'QCIF', null), new StreamPlanError('a QCIF stream of a 708x576 capture needs 354x288 to be a multiple of 4'));
  t.throws(() => planStream({ ...pal, height: 574 }, 'CIF', null), /needs 704x574 to be a multiple of 4/);
});

t.test('rates: at or above the capture takes every frame, below it a gate', async (t) => {
  t.equal(planStream(pal, 'D1', 25).gate, null);
  t.equal(planStream(pal, 'D1', 30).gate, null, 'an auto channel that found PAL runs at 25');
  t.same([planStream(ntsc, 'CIF', 30).gate, planStream(ntsc, 'CIF', 30).fps], [null, '30000/1001'], '30 on NTSC is its 29.97');
  const p = planStream(ntsc, 'CIF', 29);
  t.equal(p.fps, 29, 'the encoder is told the stream rate');
  t.equal(p.gate!.intervalUs, 1e6 / 29);
});

t.test('the gate keeps the wanted rate exactly, evenly spaced, for an hour', async (t) => {
  for (const [name, g, fps] of [
    ['PAL 25 -> 6', pal, 6],
    ['PAL 25 -> 12', pal, 12],
    ['PAL 25 -> 1', pal, 1],
    ['NTSC 29.97 -> 6', ntsc, 6],
    ['NTSC 29.97 -> 15', ntsc, 15],
  ] as const) {
    const period = (1e6 * g.fps.den) / g.fps.num;
    const kept = run(planStream(g, 'CIF', fps).gate!, period, 3600);
    // A counter ("every 4th frame" for 6 of 25) would give 6.25/s here; a rounded one drifts by minutes a day.
    t.ok(Math.abs(kept.length - 3600 * fps) <= 1, `${name}: ${kept.length} frames in an hour (${3600 * fps} wanted)`);
    const gaps = kept.slice(1).map((x, i) => x - kept[i]!);
    const interval = 1e6 / fps;
    t.ok(
      gaps.every((d) => Math.abs(d - interval) <= period),
      `${name}: every spacing within one capture period of ${Math.round(interval)} µs (${Math.min(...gaps)}..${Math.max(...gaps)})`,
    );
  }
});

t.test('jitter in the capture timestamps does not change the rate or the spacing', async (t) => {
  const gate = planStream(pal, 'CIF', 6).gate!;
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 8000; // ±4 ms
  const kept = run(gate, 40_000, 600, noise);
  t.ok(Math.abs(kept.length - 3600) <= 1, `${kept.length} frames in 10 minutes`);
  const gaps = kept.slice(1).map((x, i) => x - kept[i]!);
  t.ok(gaps.every((d) => d >= 120_000 - 8000 && d <= 200_000 + 8000), `spacing ${Math.min(...gaps)}..${Math.max(...gaps)} µs`);
});

t.test('frames lost by the capture and a gap: the rhythm holds, missed slots are not made up', async (t) => {
  const gate = new FrameRateGate(200_000, 20_000); // 5 of 25
  const times = [0, 40_000, 80_000, 200_000, 240_000, 360_000, 400_000, 440_000, 3_000_000, 3_040_000, 3_200_000];
  const kept = times.filter((x) => gate.keep(x));
  t.same(kept, [0, 200_000, 400_000, 3_000_000, 3_200_000]);
  const early = new FrameRateGate(200_000, 20_000);
  t.same([0, 185_000, 230_000].filter((x) => early.keep(x)), [0, 185_000], 'a frame a little early counts for its slot');
});
