// Motion and tamper detectors on synthetic luma sequences with known answers:
// a moving block, a global lighting change, a covered lens, sensor noise
// only, masked cells; and the event timing of ChannelAnalytics on a manual clock.
import t from 'tap';
import fc from 'fast-check';
import { ChannelAnalytics } from '../../../firmware/analytics/monitor.js';
import { isFlat, lumaOfYuyv, lumaStats, type LumaPlane } from '../../../firmware/analytics/luma.js';
import { cellShare, detectMotion } from '../../../firmware/analytics/motion.js';
import { emptyBaseline, isTampered, updateBaseline } from '../../../firmware/analytics/tamper.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';

const W = 352;
const H = 288;
const COLS = 22;
const ROWS = 18;

/** Deterministic noise in [-amp, amp]. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

interface Scene {
  /** Brightness offset added to the whole picture. */
  light?: number;
  /** A bright block at (x, y), 32x32. */
  block?: [number, number];
  noise?: number;
  seed?: number;
  /** A covered lens: dark, no texture, only noise. */
  covered?: boolean;
  /** Perfectly uniform (a capture card's no-signal screen). */
  flat?: number;
}

function frame(scene: Scene, stride = W): LumaPlane {
  const data = new Uint8Array(stride * H);
  const r = rng(scene.seed ?? 1);
  const amp = scene.noise ?? 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v: number;
      if (scene.flat !== undefined) v = scene.flat;
      else if (scene.covered) v = 12 + (r() * 2 - 1) * amp;
      else {
        v = 60 + (((x >> 3) + (y >> 3)) % 2) * 50 + ((x * 5 + y * 3) % 13) + (scene.light ?? 0) + (r() * 2 - 1) * amp;
        const b = scene.block;
        if (b && x >= b[0] && x < b[0] + 32 && y >= b[1] && y < b[1] + 32) v = 235;
      }
      data[y * stride + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { data, width: W, height: H, stride };
}

const cellOf = (x: number, y: number) => Math.floor((y * ROWS) / H) * COLS + Math.floor((x * COLS) / W);

t.test('a moving block is motion in the cells it crossed, and only there', async (t) => {
  const a = frame({ block: [64, 96], seed: 1 });
  const b = frame({ block: [96, 96], seed: 2 });
  const r = detectMotion(a, b);
  t.ok(r.motion, `motion (${r.active} cells)`);
  t.notOk(r.global);
  const active = [...r.cells.keys()].filter((c) => r.cells[c]);
  const expected = new Set<number>();
  for (let y = 96; y < 128; y++) for (let x = 64; x < 128; x++) expected.add(cellOf(x, y));
  t.ok(active.length > 0 && active.every((c) => expected.has(c)), `active cells ${active.join(',')} lie under the block's path`);
  t.ok(active.includes(cellOf(70, 110)) && active.includes(cellOf(120, 110)), 'where it left and where it arrived');
});

t.test('sensor noise only: nothing', async (t) => {
  for (const noise of [2, 6, 12]) {
    const r = detectMotion(frame({ noise, seed: 3 }), frame({ noise, seed: 4 }));
    t.equal(r.active, 0, `noise ±${noise}: no active cell (threshold ${r.threshold.toFixed(1)})`);
    t.notOk(r.motion);
  }
});

t.test('a global lighting change is not motion', async (t) => {
  const r = detectMotion(frame({ seed: 5 }), frame({ seed: 6, light: 45 }));
  t.notOk(r.motion, 'no motion');
  t.ok(Math.abs(r.shift - 45) < 3, `shift measured: ${r.shift.toFixed(1)}`);
  // A harsher change that also alters contrast: flagged global, still not motion.
  const a = frame({ seed: 7 });
  const b = { ...a, data: a.data.map((v) => Math.min(255, v * 2)) };
  const g = detectMotion(a, b);
  t.ok(g.global, `most of the picture changed: global (${g.active} cells)`);
  t.notOk(g.motion);
});

t.test('masked cells are ignored; sensitivity per cell; minimum area', async (t) => {
  const a = frame({ block: [64, 96], seed: 1 });
  const b = frame({ block: [96, 96], seed: 2 });
  const mask = new Array<number>(COLS * ROWS).fill(50);
  for (let y = 80; y < 144; y++) for (let x = 48; x < 144; x++) mask[cellOf(x, y)] = 0;
  const masked = detectMotion(a, b, { sensitivity: mask });
  t.equal(masked.active, 0, 'the block moves only in masked cells: nothing');
  t.notOk(masked.motion);
  const big = detectMotion(a, b, { minCells: 50 });
  t.ok(big.active > 0 && !big.motion, `${big.active} cells are less than the minimum area of 50`);
  t.ok(cellShare(100) < cellShare(50) && cellShare(50) < cellShare(1), 'higher sensitivity needs a smaller changed share');
  t.throws(() => detectMotion(a, { ...b, width: 176 }), /differ in size/);
  const strided = detectMotion(frame({ block: [64, 96], seed: 1 }, 384), frame({ block: [96, 96], seed: 2 }, 384));
  t.same(strided.cells, detectMotion(a, b).cells, 'padded lines give the same answer');
});

t.test('tamper: a covered lens, a sprayed (blurred) lens; not a dull scene', async (t) => {
  let base = emptyBaseline;
  for (let i = 0; i < 20; i++) base = updateBaseline(base, lumaStats(frame({ seed: 10 + i })));
  t.ok(base.detail > 5, `baseline detail ${base.detail.toFixed(1)}`);
  t.notOk(isTampered(lumaStats(frame({ seed: 40, block: [10, 10] })), base), 'a normal picture with something in it');
  t.ok(isTampered(lumaStats(frame({ covered: true, seed: 41 })), base), 'covered: dark and featureless');
  // Sprayed: same brightness, detail gone (a 9-tap box blur of the scene).
  const f = frame({ seed: 42, noise: 0 });
  const blur = new Uint8Array(f.data.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let s = 0;
    let n = 0;
    for (let dy = -8; dy <= 8; dy += 2) for (let dx = -8; dx <= 8; dx += 2) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
        s += f.data[yy * W + xx]!;
        n++;
      }
    }
    blur[y * W + x] = Math.round(s / n);
  }
  t.ok(isTampered(lumaStats({ ...f, data: blur }), base), 'sprayed: detail lost at the same brightness');
  t.notOk(isTampered(lumaStats(frame({ covered: true })), emptyBaseline), 'no baseline yet: no verdict');
  let dull = emptyBaseline;
  for (let i = 0; i < 10; i++) dull = updateBaseline(dull, lumaStats(frame({ flat: 20 })));
  t.notOk(isTampered(lumaStats(frame({ flat: 20 })), dull), 'a scene with nothing to lose is never tamper');
});

t.test('flat pictures (no signal) versus a covered lens', async (t) => {
  t.ok(isFlat(lumaStats(frame({ flat: 16 }))), 'black screen');
  t.ok(isFlat(lumaStats(frame({ flat: 29 }))), 'blue screen luma');
  t.notOk(isFlat(lumaStats(frame({ covered: true, noise: 3 }))), 'a covered lens still has sensor noise');
  t.notOk(isFlat(lumaStats(frame({}))), 'a scene');
  t.same(lumaStats({ data: new Uint8Array(0), width: 0, height: 0, stride: 0 }), { mean: 0, stdDev: 0, detail: 0 });
  const yuyv = new Uint8Array(8 * 2 * 2).map((_, i) => (i % 2 ? 128 : i));
  t.same([...lumaOfYuyv(yuyv, 8, 2).data], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
});

t.test('property: identical frames never show motion; any frame pair gives a well-formed answer', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 100 }), (seed, noise, sens) => {
      const a = frame({ seed, noise });
      const same = detectMotion(a, a, { sensitivity: sens });
      if (same.active !== 0 || same.motion) return false;
      const r = detectMotion(a, frame({ seed: seed + 1, noise, block: [seed % 300, seed % 250] }), { sensitivity: sens });
      return r.cells.length === COLS * ROWS && r.active === r.cells.reduce((n, c) => n + c, 0) && !(r.motion && r.global);
    }),
    { numRuns: 25 },
  );
});

t.test('ChannelAnalytics: motion and tamper events with start and end on the clock', async (t) => {
  const clock = new ManualClock();
  const bus = new EventBus();
  const motion: BusEvents['motion'][] = [];
  const tamper: BusEvents['tamper'][] = [];
  const scene: BusEvents['sceneChange'][] = [];
  bus.on('motion', (e) => motion.push(e));
  bus.on('tamper', (e) => tamper.push(e));
  bus.on('sceneChange', (e) => scene.push(e));
  const a = new ChannelAnalytics({ channel: 'c1', bus, clock, motion: { startFrames: 2, endMs: 1000 }, tamper: { startMs: 1000, endMs: 1000 } });
  let seed = 100;
  const step = async (s: Scene) => {
    await clock.advance(200);
    a.push(frame({ seed: seed++, ...s }));
  };
  for (let i = 0; i < 10; i++) await step({});
  t.same(motion, [], 'still scene: no motion');
  t.notOk(a.push(frame({ seed: 1 })), 'a second frame within the interval is skipped');
  await step({ block: [10, 100] });
  t.same(motion, [], 'one frame of motion is not enough (startFrames 2)');
  await step({ block: [50, 100] });
  t.equal(motion.length, 1);
  t.match(motion[0], { channel: 'c1', active: true });
  t.ok(motion[0]!.cells! > 0);
  const started = motion[0]!.at;
  await step({ block: [90, 100] });
  for (let i = 0; i < 4; i++) await step({ block: [90, 100] });
  t.equal(motion.length, 1, 'quiet for less than endMs: still on');
  for (let i = 0; i < 2; i++) await step({ block: [90, 100] });
  t.equal(motion.length, 2, 'ends after endMs of quiet');
  t.match(motion[1], { active: false });
  t.ok(motion[1]!.at - started >= 1000);

  for (let i = 0; i < 4; i++) await step({ covered: true });
  t.same(tamper, [], 'covered for less than startMs: nothing yet');
  for (let i = 0; i < 3; i++) await step({ covered: true });
  t.equal(tamper.length, 1, 'covered for startMs: tamper');
  t.equal(a.tamperActive, true);
  for (let i = 0; i < 7; i++) await step({});
  t.same(tamper.map((e) => e.active), [true, false], 'uncovered for endMs: tamper ends');
  t.ok(scene.length >= 1, 'covering and uncovering changed the whole scene: sceneChange, not motion');
  t.notOk(motion.slice(2).some((m) => m.active), 'no motion from covering the lens');

  await step({ block: [10, 100] });
  await step({ block: [60, 100] });
  t.equal(a.motionActive, true);
  a.reset();
  t.equal(a.motionActive, false, 'reset ends active events');
  t.match(motion.at(-1), { active: false });
});
