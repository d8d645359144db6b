// The binding against the real kernel drivers: vivid (a 4-channel analog
// card: four single-input S-Video nodes) and vicodec (a stateful encoder) in
// the QEMU virtual board. The guest runs fixtures/vivid-guest.mjs on the
// compiled driver (dist/, or V4L2_DIST) and prints JSON checked here.
import t from 'tap';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInVboard, vboardUnavailable } from '../../../scripts/vboard/vboard.js';
import { percentToValue } from '../../../firmware/channels/dvr-image.js';
import {
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_EVENT_EOS,
  V4L2_EVENT_SOURCE_CHANGE,
  V4L2_EVENT_SRC_CH_RESOLUTION,
  V4L2_IN_ST_NO_SIGNAL,
  V4L2_PIX_FMT_FWHT,
  V4L2_STD_NTSC,
  V4L2_STD_NTSC_M,
  V4L2_STD_PAL,
  V4L2_STD_SECAM,
  VIDEO_LOSS_STATUS,
} from '../../../drivers/v4l2/index.js';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
const dist = resolve(root, process.env.V4L2_DIST ?? 'dist');

/** Why the compiled driver cannot be used (missing, or older than a source file), or null. */
function distProblem(): string | null {
  const built = join(dist, 'drivers/v4l2');
  if (!existsSync(join(built, 'index.js'))) return `no compiled driver in ${built} (npx tsc -p tsconfig.json builds it)`;
  const src = join(root, 'drivers/v4l2');
  for (const f of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const js = join(built, f.replace(/\.ts$/, '.js'));
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(src, f)).mtimeMs) {
      return `compiled driver is older than drivers/v4l2/${f} (npx tsc -p tsconfig.json rebuilds it)`;
    }
  }
  // The guest's picture-control step uses the firmware's mapping on top of the driver.
  for (const f of ['dvr-image', 'dvr-capture']) {
    const js = join(dist, 'firmware/channels', `${f}.js`);
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(root, 'firmware/channels', `${f}.ts`)).mtimeMs) {
      return `compiled firmware/channels/${f}.js is missing or older than its source (npx tsc -p tsconfig.json rebuilds it)`;
    }
  }
  return null;
}

const skip = vboardUnavailable() ?? distProblem();
// A boot plus two 4-node captures in an emulated guest: 1.5-3 minutes.
t.setTimeout(900_000);

interface Frame {
  sequence: number;
  timestampUs: number;
  bytesused: number;
  length: number;
  field: number;
  /** The stream's stats.starved when this frame arrived. */
  starved: number;
  /** Planes of the frame (data views). */
  planes: number;
}
interface Capture {
  path: string;
  std: number;
  /** The buffer type the node was captured with (node 0 is multi-planar). */
  type: number;
  format: { width: number; height: number; field: number };
  parm: { timeperframe: { numerator: number; denominator: number } };
  frames: Frame[];
  stats: { frames: number; dropped: number; starved: number; errors: number; held: number };
}
interface GuestResult {
  errors: string[];
  nodes: { path: string; driver: string; deviceCaps: number }[];
  enumeration: {
    inputs: { name: string; std: number; status: number; videoLoss: boolean }[];
    input: number;
    standards: { name: string; id: number; frameperiod: { numerator: number; denominator: number } }[];
    type: number;
    formats: string[];
  };
  pal: Capture[];
  ntsc: Capture[];
  palReference: number[][] | null;
  ntscReference: number[][] | null;
  noSignal: {
    menu: { index: number; name?: string }[];
    before: { status: number; videoLoss: boolean };
    during: { status: number; videoLoss: boolean };
    noLock?: { status: number; videoLoss: boolean };
    after: { status: number; videoLoss: boolean };
    eventsBefore: unknown;
    event: { type: number; changes?: number; timestampNs: string } | null;
  };
  streamEvent: { event: { type: number; changes?: number } | null; frames: number };
  querystd: Record<'pal' | 'ntsc' | 'secam', { set: string; detected: string }> & { noSignal: string };
  zeroCopy: {
    format: { width: number; height: number; sizeimage: number };
    outputSize: number;
    frames: { index: number; sequence: number; bytesused: number; link: string }[];
    coded: { bytesused: number; timestampUs: number; magic: string }[];
  };
  image: {
    ranges: Record<string, { minimum: number; maximum: number; step: number; defaultValue: number } | null>;
    report: { set: Record<string, number>; missing: string[]; failed: unknown[] };
    readBack: Record<string, number>;
    framesBefore: number;
    framesAfter: number;
    cleared: { set: Record<string, number>; missing: string[]; failed: unknown[] };
    readCleared: Record<string, number>;
  };
  vicodec: {
    formats: { output: { width: number; height: number }; capture: { pixelformat: number } };
    coded: { bytesused: number; timestampUs: number; last: boolean; magic: string }[];
    ended: boolean;
    events: { type: number; sequence: number }[];
  };
}

t.test('vivid and vicodec in the virtual board', { skip: skip ?? false, timeout: 900_000 }, async (t) => {
  const run = await runInVboard('test/drivers/v4l2/fixtures/vivid-guest.sh', {
    env: { V4L2_DIST: dist },
    timeoutMs: 600_000,
  });
  t.equal(run.code, 0, 'the guest script ran', { stderr: run.stderr.slice(-3000) });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  const r = JSON.parse(line) as GuestResult;
  t.same(r.errors, [], 'no step failed in the guest');

  t.test('four vivid nodes and vicodec are found', async (t) => {
    t.same(r.nodes.map((n) => n.driver), ['vivid', 'vivid', 'vivid', 'vivid', 'vicodec']);
  });

  t.test('inputs and standards', async (t) => {
    const { inputs, standards, input } = r.enumeration;
    t.equal(inputs.length, 1, 'one input per node');
    t.equal(input, 0);
    t.match(inputs[0].name, /S-Video/);
    t.ok(inputs[0].std & V4L2_STD_PAL && inputs[0].std & V4L2_STD_NTSC && inputs[0].std & V4L2_STD_SECAM, 'PAL, NTSC and SECAM');
    t.equal(inputs[0].videoLoss, false);
    const pal = standards.find((s) => s.name === 'PAL');
    const ntsc = standards.find((s) => s.name === 'NTSC');
    t.same(pal?.frameperiod, { numerator: 1, denominator: 25 });
    t.same(ntsc?.frameperiod, { numerator: 1001, denominator: 30000 });
    t.equal(r.enumeration.type, V4L2_BUF_TYPE_VIDEO_CAPTURE, 'node 0 is single-planar (multi-planar with vivid.multiplanar=2 starved buffers: see the issue note)');
    t.ok(r.enumeration.formats.includes('YUYV'));
  });

  const gapsOf = (seq: number[]) => seq.slice(1).reduce((sum, s, i) => sum + Math.max(0, s - seq[i] - 1), 0);

  for (const [name, captures, reference, period, height, std] of [
    ['PAL', r.pal, r.palReference, 40_000, 576, V4L2_STD_PAL],
    ['NTSC', r.ntsc, r.ntscReference, 1_001_000 / 30, 480, V4L2_STD_NTSC_M],
  ] as const) {
    t.test(`${name} on four nodes at once: no frame lost by the binding, at the standard's rate`, async (t) => {
      t.equal(captures.length, 4);
      // vivid loses frames by itself when its kernel thread runs late, which
      // happens under TCG on a loaded host whoever captures: v4l2-ctl on the
      // same four nodes is shown for comparison. What this binding answers for
      // is the frames lost because no buffer was queued when they fell due
      // (stats.starved), counted over the sample: once all four streams run
      // (starting four workers in the guest's slow Node can hold the main
      // thread long enough to starve the first stream), there must be none.
      const referenceGaps = reference ? reference.map(gapsOf) : null;
      const oursInSample = (c: Capture) => c.frames[c.frames.length - 1].starved - c.frames[0].starved;
      t.comment(`${name}: v4l2-ctl reference gaps per node: ${referenceGaps ? referenceGaps.join(', ') : 'v4l2-ctl not installed'}`);
      t.comment(
        `${name}: this binding's lost frames per node, in the sample (ours): ${captures.map((c) => `${gapsOf(c.frames.map((f) => f.sequence))} (${oursInSample(c)})`).join(', ')}`,
      );
      for (const c of captures) {
        t.equal(c.std, std, `${c.path}: standard set`);
        t.equal(c.type, V4L2_BUF_TYPE_VIDEO_CAPTURE, `${c.path}: the buffer type the node offers`);
        t.ok(c.frames.every((f) => f.planes === 1), `${c.path}: one plane of YUYV per frame`);
        t.equal(c.format.height, height, `${c.path}: ${c.format.width}x${c.format.height}`);
        const seq = c.frames.map((f) => f.sequence);
        t.equal(seq.length, name === 'PAL' ? 50 : 60);
        t.ok(seq.every((s, i) => i === 0 || s > seq[i - 1]), `${c.path}: sequence numbers increase`);
        const seen = gapsOf(seq);
        t.ok(c.stats.dropped >= seen, `${c.path}: ${seen} lost frames in the sample are counted (stats.dropped ${c.stats.dropped})`);
        // 16 buffers give 0.5 s of slack; a binding that held or failed to requeue buffers would starve
        // nearly every frame after the first 16. A frame or two is the emulated guest descheduled on a
        // loaded host (the CI machine runs two test files at once beside QEMU's TCG threads).
        t.ok(oursInSample(c) <= 2, `${c.path}: ${oursInSample(c)} frames lost for want of a queued buffer (at most 2; ${seen - oursInSample(c)} lost by vivid itself)`);
        const first = c.frames[0];
        const last = c.frames[c.frames.length - 1];
        const interval = (last.timestampUs - first.timestampUs) / (last.sequence - first.sequence);
        t.ok(Math.abs(interval - period) / period < 0.05, `${c.path}: ${(1e6 / interval).toFixed(2)} fps by buffer timestamps`);
        t.ok(c.frames.every((f) => f.bytesused === c.frames[0].bytesused && f.length === f.bytesused), `${c.path}: full frames`);
        t.equal(c.stats.held, 0, `${c.path}: every frame released`);
      }
    });
  }

  t.test('no-signal control shows as V4L2_IN_ST_NO_SIGNAL (video loss)', async (t) => {
    const n = r.noSignal;
    t.ok(n.menu.some((m) => m.name === 'No Signal'), 'vivid menu has "No Signal"');
    t.equal(n.before.status & V4L2_IN_ST_NO_SIGNAL, 0);
    t.not(n.during.status & V4L2_IN_ST_NO_SIGNAL, 0, 'NO_SIGNAL while the control says so');
    t.equal(n.during.videoLoss, true);
    if (n.noLock) t.not(n.noLock.status & VIDEO_LOSS_STATUS, 0, `"No Lock": status 0x${n.noLock.status.toString(16)}`);
    t.equal(n.after.status, 0, 'signal back');
    t.equal(n.eventsBefore, null, 'DQEVENT with nothing pending: null');
    t.equal(n.event?.type, V4L2_EVENT_SOURCE_CHANGE, 'losing the signal raised SOURCE_CHANGE');
    t.equal(n.event?.changes, V4L2_EVENT_SRC_CH_RESOLUTION);
    t.ok(BigInt(n.event?.timestampNs ?? 0) > 0n, 'event timestamp');
  });

  t.test('QUERYSTD detects the standard the input receives, and nothing without a signal', async (t) => {
    const q = r.querystd;
    for (const [name, std] of [['pal', V4L2_STD_PAL], ['ntsc', V4L2_STD_NTSC_M], ['secam', V4L2_STD_SECAM]] as const) {
      const got = BigInt(q[name].detected);
      t.not(got, 0n, `${name}: a standard is detected (0x${got.toString(16)})`);
      t.equal(got & ~BigInt(std), 0n, `${name}: within ${name.toUpperCase()} (0x${got.toString(16)} of 0x${std.toString(16)})`);
    }
    t.equal(q.noSignal, '0', 'no signal: V4L2_STD_UNKNOWN');
  });

  t.test('EXPBUF: a captured frame goes to the encoder as a DMABUF, never copied', async (t) => {
    const z = r.zeroCopy;
    t.equal(z.frames.length, 3);
    for (const f of z.frames) t.match(f.link, /dmabuf/, `buffer ${f.index}: the exported fd is a DMABUF (${f.link})`);
    t.ok(z.frames.every((f) => f.bytesused === z.format.sizeimage), `full ${z.format.width}x${z.format.height} frames (${z.format.sizeimage} bytes)`);
    t.equal(z.outputSize, z.format.sizeimage, 'the encoder takes the capture buffer as its raw frame size');
    t.equal(z.coded.length, 3, 'one coded frame per queued DMABUF');
    t.same(z.coded.map((c) => c.timestampUs), [40000, 80000, 120000], 'each coded frame is the frame queued');
    t.ok(z.coded.every((c) => c.bytesused > 0 && c.magic.startsWith('4f4f4f4f')), 'FWHT frames');
  });

  t.test('CaptureStream({ events: true }) delivers SOURCE_CHANGE from the worker while streaming', async (t) => {
    t.equal(r.streamEvent.event?.type, V4L2_EVENT_SOURCE_CHANGE);
    t.ok(r.streamEvent.frames >= 1);
  });

  t.test('picture controls: percent of vivid\'s ranges, set while streaming, read back', async (t) => {
    const im = r.image;
    t.ok(im, 'the step ran');
    const asked = { brightness: 100, contrast: 25, saturation: 0, hue: 75, sharpness: 40 } as const;
    for (const c of ['brightness', 'contrast', 'saturation', 'hue'] as const) {
      t.ok(im.ranges[c], `vivid has ${c}`);
    }
    const expected = Object.fromEntries(
      Object.entries(asked)
        .filter(([c]) => im.ranges[c])
        .map(([c, p]) => [c, percentToValue(p, im.ranges[c]!)]),
    );
    t.same(im.report.set, expected, `values from the driver's ranges ${JSON.stringify(im.ranges)}`);
    t.same(im.readBack, expected, 'G_CTRL reads back what was set');
    t.equal(im.readBack.brightness, im.ranges.brightness!.maximum, '100 %: the top of the range');
    t.same(im.report.missing, Object.keys(asked).filter((c) => !im.ranges[c]), 'only the controls vivid lacks are missing');
    t.same(im.report.failed, []);
    t.ok(im.framesAfter > im.framesBefore, 'the capture kept streaming');
    t.same(im.readCleared, Object.fromEntries(Object.keys(expected).map((c) => [c, im.ranges[c]!.defaultValue])), 'cleared: the driver defaults again');
  });

  t.test('vicodec encodes raw frames and drains with LAST', async (t) => {
    const v = r.vicodec;
    t.equal(v.formats.capture.pixelformat, V4L2_PIX_FMT_FWHT);
    t.equal(v.coded.length, 8, 'one coded buffer per raw frame');
    t.ok(v.coded.every((c) => c.bytesused > 0));
    t.same(
      v.coded.map((c) => c.timestampUs),
      Array.from({ length: 8 }, (_, i) => i * 40000),
      'timestamps carried from OUTPUT to CAPTURE',
    );
    t.same(v.coded.map((c) => c.last), [false, false, false, false, false, false, false, true], 'LAST on the final buffer after ENC_CMD_STOP');
    t.equal(v.ended, true);
    t.ok(v.coded.every((c) => c.magic.startsWith('4f4f4f4f')), 'FWHT frame header magic');
    t.same(v.events.map((e) => e.type), [V4L2_EVENT_EOS], 'V4L2_EVENT_EOS after the drain');
  });
});
