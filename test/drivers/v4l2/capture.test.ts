import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureStream, V4l2Device, V4L2_BUF_TYPE_VIDEO_CAPTURE, type CaptureSource, type Frame } from '../../../drivers/v4l2/index.js';
import type { SimData } from './fixtures/sim-capture-backend.js';

const backend = new URL('./fixtures/sim-capture-backend.ts', import.meta.url).href;
const BUFFERS = 4;
const SIZE = 4096;

/** A CaptureSource over a SharedArrayBuffer, recording pin/unpin/dispose. */
function simSource(memory: SharedArrayBuffer) {
  const pinned = new Set<number>();
  const log = { disposed: 0, unmappedAfterDispose: [] as number[] };
  let disposed = false;
  const source: CaptureSource = {
    count: BUFFERS,
    buffers: Array.from({ length: BUFFERS }, (_, index) => ({
      index,
      planes: [{ addr: 0n, length: SIZE, data: Buffer.from(memory, index * SIZE, SIZE) }],
    })),
    pin: (i) => void pinned.add(i),
    unpin: (i) => {
      pinned.delete(i);
      if (disposed) log.unmappedAfterDispose.push(i);
    },
    dispose: () => {
      disposed = true;
      log.disposed++;
    },
  };
  return { source, pinned, log };
}

function sim(periodMs = 4, extra: Partial<SimData> = {}): SimData {
  return { memory: new SharedArrayBuffer(BUFFERS * SIZE), bufferSize: SIZE, periodMs, ...extra };
}

function collect(stream: CaptureStream, n: number, hold = false): Promise<Frame[]> {
  const frames: Frame[] = [];
  return new Promise((resolve) => {
    const onFrame = (f: Frame) => {
      frames.push(f);
      if (!hold) f.release();
      if (frames.length === n) {
        stream.off('frame', onFrame);
        resolve(frames);
      }
    };
    stream.on('frame', onFrame);
  });
}

t.test('frames arrive as views of the shared buffers, in sequence, without drops', async (t) => {
  const data = sim(2, { lossless: true });
  const { source, log } = simSource(data.memory);
  const stream = await CaptureStream.startWithBackend(source, backend, data);
  const seen: { sequence: number; first: number; same: boolean; shared: boolean }[] = [];
  await new Promise<void>((resolve) => {
    stream.on('frame', (f) => {
      if (seen.length === 40) return f.release();
      const view = f.data[0];
      seen.push({
        sequence: f.sequence,
        first: view.readUInt32LE(0),
        same: view.subarray(4).every((b) => b === (f.sequence & 0xff)),
        shared: view.buffer === data.memory,
      });
      f.release();
      if (seen.length === 40) resolve();
    });
  });
  await stream.stop();
  t.same(
    seen.map((s) => s.sequence),
    Array.from({ length: 40 }, (_, i) => i),
    'sequence 0..39',
  );
  t.ok(seen.every((s) => s.first === s.sequence && s.same), 'each view holds the frame the worker wrote');
  t.ok(seen.every((s) => s.shared), 'frame.data is a view of the shared memory, not a copy');
  t.equal(stream.stats.dropped, 0);
  t.equal(stream.stats.held, 0);
  t.equal(log.disposed, 1, 'source disposed once at the end');
  t.equal(stream.running, false);
});

t.test('back-pressure: held buffers are not re-queued; the lost frames show as a sequence gap', async (t) => {
  const data = sim(4);
  const { source } = simSource(data.memory);
  const stream = await CaptureStream.startWithBackend(source, backend, data);
  const held = await collect(stream, BUFFERS, true);
  t.same(held.map((f) => f.sequence), [0, 1, 2, 3]);
  t.equal(stream.stats.held, BUFFERS);
  // Every buffer is with the consumer: the clock keeps ticking, nothing is captured.
  await new Promise((r) => setTimeout(r, 120));
  t.ok(
    held.every((f) => f.data[0].readUInt32LE(0) === f.sequence),
    'no held buffer was overwritten while the consumer had it',
  );
  // From here count every frame's droppedBefore, whatever the machine's load.
  let sumDropped = 0;
  stream.on('frame', (f) => (sumDropped += f.droppedBefore));
  const next = collect(stream, 6);
  for (const f of held) f.release();
  held[0].release(); // idempotent
  const after = await next;
  await stream.stop();
  const gap = after[0].sequence - 4;
  t.ok(gap >= 10, `frames were dropped while all buffers were held (gap ${gap})`);
  t.equal(after[0].droppedBefore, gap, 'the first frame after the stall carries the gap');
  t.equal(stream.stats.dropped, sumDropped, 'stats.dropped is the sum of the gaps');
  t.equal(stream.stats.starved, stream.stats.dropped, 'every loss is ours: no buffer was queued when those frames were due');
  t.ok(after.every((f, i) => i === 0 || f.sequence > after[i - 1].sequence), 'sequence keeps increasing');
  t.ok(stream.stats.frames >= 10, 'frames counted');
});

t.test('frames the driver loses with a buffer waiting are not counted as ours', async (t) => {
  // lossless: the stand-in never drops for want of a buffer, so only its own drops remain.
  const data = sim(20, { lossless: true, driverDrops: [3, 7, 8] });
  const { source } = simSource(data.memory);
  const stream = await CaptureStream.startWithBackend(source, backend, data);
  const frames = await collect(stream, 10);
  await stream.stop();
  t.same(frames.map((f) => f.sequence), [0, 1, 2, 4, 5, 6, 9, 10, 11, 12]);
  t.same(frames.map((f) => f.droppedBefore), [0, 0, 0, 1, 0, 0, 2, 0, 0, 0]);
  t.equal(stream.stats.dropped, 3);
  t.equal(stream.stats.starved, 0, 'a buffer was queued when each lost frame was due');
});

t.test('a frame held across stop() stays mapped until released', async (t) => {
  const data = sim(4);
  const { source, pinned, log } = simSource(data.memory);
  const stream = await CaptureStream.startWithBackend(source, backend, data);
  const [kept] = await collect(stream, 1, true);
  let ended = false;
  stream.on('end', () => (ended = true));
  await stream.stop();
  t.ok(ended, "'end' emitted");
  t.equal(log.disposed, 1);
  t.ok(pinned.has(kept.index), 'the held buffer is still pinned after stop');
  t.equal(kept.data[0].readUInt32LE(0), kept.sequence, 'and still readable');
  kept.release();
  t.notOk(pinned.has(kept.index), 'release after stop unpins (unmaps) it');
  t.same(log.unmappedAfterDispose.includes(kept.index), true);
  await stream.stop(); // second stop is harmless
});

t.test('nextFrame() resolves with the next frame', async (t) => {
  const data = sim(4);
  const { source } = simSource(data.memory);
  const stream = await CaptureStream.startWithBackend(source, backend, data);
  const f = await stream.nextFrame();
  t.equal(f.sequence, 0);
  f.release();
  await stream.stop();
});

t.test('a driver error while starting rejects start() and cleans up', async (t) => {
  const data = sim(4, { failStreamOn: 'VIDIOC_STREAMON: EBUSY' });
  const { source, log } = simSource(data.memory);
  await t.rejects(CaptureStream.startWithBackend(source, backend, data), { message: 'VIDIOC_STREAMON: EBUSY' });
  t.equal(log.disposed, 1, 'source disposed');
});

t.test('start() on something that is not a video node fails in the main thread with the ioctl named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'v4l2-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'video0');
  writeFileSync(path, '');
  const dev = V4l2Device.open(path);
  t.teardown(() => dev.close());
  await t.rejects(CaptureStream.start(dev), { code: 'ENOTTY', message: `ioctl(VIDIOC_QUERYCAP) on ${path}: ENOTTY (Inappropriate ioctl for device)` });
  await t.rejects(CaptureStream.start(dev, { type: V4L2_BUF_TYPE_VIDEO_CAPTURE }), {
    code: 'ENOTTY',
    message: /^ioctl\(VIDIOC_REQBUFS\) on /,
  });
});
