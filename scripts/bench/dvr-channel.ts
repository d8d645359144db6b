// CPU of whole DVR channels: capture (CaptureStream's worker) -> x264 main
// 704x576 + 2:1 scaler -> x264 sub 352x288, with video-loss and motion
// analysis, as DvrService runs them, at real time (25 fps). No capture card
// here: this module is also the stand-in driver the capture worker loads
// (createBackend below), which copies prepared noisy NV12 frames into the
// buffers at the frame rate, as a card's DMA would (its copy is counted in
// the capture worker's CPU, so the figures slightly overstate ours).
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/dvr-channel.js [seconds] [channels] [no-analytics]
//
// Reported: process CPU per channel-frame, channels per core, the share of
// the main thread (all the firmware's per-frame JavaScript: frame glue,
// scaler, analytics) versus the encoder and capture threads, and copies per
// frame between the capture buffer and each encoder input.
import { isMainThread } from 'node:worker_threads';
import type { BufferInfo } from '../../drivers/v4l2/buffer-io.js';
import type { CaptureBackend, WorkerConfig } from '../../drivers/v4l2/capture-protocol.js';

const W = 704;
const H = 576;
const SIZE = (W * H * 3) / 2;
const PERIOD_MS = 40;
const PREPARED = 25;

interface BenchSimData {
  memory: SharedArrayBuffer;
  frames: SharedArrayBuffer;
}

/** The stand-in driver, run in the capture worker. */
export function createBackend(config: WorkerConfig): CaptureBackend {
  const sim = config.backendData as BenchSimData;
  const bytes = new Uint8Array(sim.memory);
  const frames = new Uint8Array(sim.frames);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const queued: number[] = [];
  const done: BufferInfo[] = [];
  let streaming = false;
  let tick = 0;
  let next = 0;
  const advance = () => {
    while (streaming && next <= performance.now()) {
      const sequence = tick++;
      const due = Math.round(next * 1000);
      next += PERIOD_MS;
      const index = queued.shift();
      if (index === undefined) continue;
      const k = sequence % PREPARED;
      bytes.set(frames.subarray(k * SIZE, (k + 1) * SIZE), index * SIZE);
      done.push({ index, type: config.type, memory: config.memory, flags: 0x2000, field: 1, sequence, timestampUs: due, bytesused: SIZE, planes: [{ bytesused: SIZE, length: SIZE, offset: 0, dataOffset: 0 }] });
    }
  };
  return {
    queue(index) {
      advance();
      queued.push(index);
    },
    dequeue: () => done.shift() ?? null,
    nowUs: () => Math.round(performance.now() * 1000),
    streamOn() {
      streaming = true;
      next = performance.now() + PERIOD_MS;
    },
    streamOff() {
      streaming = false;
    },
    wait(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        advance();
        if (done.length) return 1; // POLLIN
        const until = Math.min(deadline, next) - performance.now();
        if (performance.now() >= deadline) return 0;
        if (until > 0) Atomics.wait(sleeper, 0, 0, until);
      }
    },
    dequeueEvents: () => [],
    dispose() {},
  };
}

async function bench(): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const { availableParallelism, cpus } = await import('node:os');
  const { CaptureStream } = await import('../../drivers/v4l2/index.js');
  const { shutdownEncoderPool } = await import('../../drivers/encoder/index.js');
  const { koffi } = await import('../../drivers/libc/index.js');
  const { DvrService } = await import('../../firmware/channels/dvr-service.js');
  const { EventBus } = await import('../../firmware/core/bus.js');
  const { systemClock } = await import('../../firmware/core/clock.js');
  const { memoryLogger } = await import('../../firmware/core/log.js');
  type CaptureHandle = import('../../firmware/channels/dvr-capture.js').CaptureHandle;

  const seconds = Number(process.argv[2] ?? 10);
  const channels = Number(process.argv[3] ?? 1);
  const analytics = process.argv[4] !== 'no-analytics';
  const clockGettime = koffi().load('libc.so.6').func('int clock_gettime(int clk, void *ts)') as (id: number, ts: BigInt64Array) => number;
  const ts = new BigInt64Array(2);
  const threadCpuMs = () => {
    clockGettime(3, ts); // CLOCK_THREAD_CPUTIME_ID
    return Number(ts[0]!) * 1000 + Number(ts[1]!) / 1e6;
  };

  // Noisy testsrc frames, like an analog camera (ffmpeg), prepared once.
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=25,noise=alls=6:allf=t`, '-frames:v', String(PREPARED), '-pix_fmt', 'nv12', '-f', 'rawvideo', '-'], { maxBuffer: SIZE * PREPARED + 1024 });
  const frames = new SharedArrayBuffer(SIZE * PREPARED);
  new Uint8Array(frames).set(raw);

  const backend = import.meta.url;
  const open = async (): Promise<CaptureHandle> => {
    const count = 4;
    const memory = new SharedArrayBuffer(count * SIZE);
    captureMemory.add(memory);
    const source = {
      count,
      buffers: Array.from({ length: count }, (_, index) => ({ index, planes: [{ addr: 0n, length: SIZE, data: Buffer.from(memory, index * SIZE, SIZE) }] })),
      pin: () => {},
      unpin: () => {},
      dispose: () => {},
    };
    const stream = await CaptureStream.startWithBackend(source, backend, { memory, frames } satisfies BenchSimData);
    return {
      stream,
      geometry: { width: W, height: H, format: 'nv12', bytesperline: W, frameBytes: SIZE, fps: { num: 25, den: 1 }, standard: 'pal' },
      inputStatus: () => 0,
      close: () => stream.stop(),
    };
  };
  const sink = { setStreamInfo() {}, append: () => true, closeStream: async () => {} };
  // Copies are counted, not claimed: each picture handed to an encoder either
  // lies in a capture buffer (read in place: no copy) or was written
  // elsewhere from one (the scaler's output: one copy).
  const { createEncoder } = await import('../../drivers/encoder/index.js');
  type Encoder = import('../../drivers/encoder/index.js').Encoder;
  type RawPicture = import('../../drivers/encoder/index.js').RawPicture;
  const captureMemory = new Set<ArrayBufferLike>();
  const handed = { inPlace: 0, copied: 0 };
  const counting = (inner: Encoder): Encoder => ({
    backend: inner.backend,
    configure: (c) => inner.configure(c),
    encode: (raw: RawPicture, pts: number, o?: { forceKeyframe?: boolean }) => {
      const planes = raw instanceof Uint8Array ? [raw] : raw.planes;
      if (planes.every((p) => captureMemory.has(p.buffer))) handed.inPlace++;
      else handed.copied++;
      return inner.encode(raw, pts, o);
    },
    flush: () => inner.flush(),
    parameterSets: () => inner.parameterSets(),
    streamInfo: () => inner.streamInfo(),
    close: () => inner.close(),
  });
  const dvr = new DvrService({
    bus: new EventBus(),
    clock: systemClock,
    log: memoryLogger('bench'),
    store: sink,
    openCapture: open,
    createEncoder: (backend, options) => counting(createEncoder(backend, options)),
    channels: () =>
      Array.from({ length: channels }, (_, i) => ({
        id: `dvr${i + 1}`,
        enabled: true,
        device: `/dev/video${i}`,
        input: 0,
        standard: 'pal' as const,
        encoder: { backend: 'x264' },
        main: { codec: 'h264' as const, bitrateKbps: 2048, rateControl: 'cbr' as const, gop: 50, profile: 'main' as const, preset: 'veryfast' },
        sub: { codec: 'h264' as const, bitrateKbps: 256, rateControl: 'cbr' as const, gop: 50, profile: 'baseline' as const, preset: 'veryfast' },
        motion: { enabled: analytics, sensitivity: 50, minCells: 2 },
        tamper: { enabled: analytics },
      })),
  });
  await dvr.start();
  // Warm-up: workers started, encoders opened.
  while (dvr.status().some((s) => s.frames < 10)) await new Promise((r) => setTimeout(r, 50));
  const f0 = dvr.status().reduce((n, s) => n + s.frames, 0);
  const u0 = process.cpuUsage();
  const m0 = threadCpuMs();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const mainMs = threadCpuMs() - m0;
  const u = process.cpuUsage(u0);
  const wallMs = performance.now() - w0;
  const status = dvr.status();
  const frames_ = status.reduce((n, s) => n + s.frames, 0) - f0;
  await dvr.stop();
  await shutdownEncoderPool();

  const totalMs = (u.user + u.system) / 1000;
  const perFrame = totalMs / frames_;
  const share = (perFrame * 25) / 1000;
  console.log(`DVR channel benchmark: ${channels} channel(s), ${seconds} s, motion+tamper ${analytics ? 'on' : 'off'}, ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, node ${process.version}`);
  console.log(`frames captured: ${frames_} (${((frames_ / channels / wallMs) * 1000).toFixed(1)} fps per channel; dropped ${status.map((s) => s.dropped).join('/')})`);
  console.log(`process CPU per channel-frame (capture + main + scale + sub + analytics): ${perFrame.toFixed(2)} ms`);
  console.log(`one channel at 25 fps: ${(share * 100).toFixed(0)}% of a core; channels per core: ${(1 / share).toFixed(1)}`);
  console.log(`main thread (the firmware's per-frame JavaScript): ${(mainMs / frames_).toFixed(2)} ms per frame = ${((mainMs / totalMs) * 100).toFixed(1)}% of the CPU`);
  console.log(`encoder + capture threads (libx264, worker glue, the stand-in DMA copy): ${((1 - mainMs / totalMs) * 100).toFixed(1)}%`);
  const pictures = handed.inPlace + handed.copied;
  console.log(`copies per frame, capture buffer -> encoder input (counted over ${pictures} pictures handed to the encoders): ${(handed.inPlace / (pictures / 2)).toFixed(2)} of each frame's 2 pictures read in place from the capture buffer (main), ${(handed.copied / (pictures / 2)).toFixed(2)} written once by the scaler (sub): at most 1 copy per encoder input`);
}

if (isMainThread) await bench();
