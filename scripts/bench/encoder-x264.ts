// CPU cost of one D1 channel (main 704x576 + sub 352x288 from one NV12
// capture) through the x264 encoder driver, the share of that spent in
// JavaScript, and how the three ways of calling libx264 treat the event loop.
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/encoder-x264.js [seconds-of-video] [channels]
//
// Needs ffmpeg (for noisy testsrc frames, like an analog camera) and libx264.
import { execFileSync } from 'node:child_process';
import { cpus, arch, availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
// Before anything loads a library through koffi (for the 'async' comparison).
import {
  createEncoder,
  downscale2x,
  encoderPoolThreads,
  prepareKoffiForAsyncEncode,
  rawFrameSize,
  shutdownEncoderPool,
  X264Encoder,
  x264Layout,
  type Encoder,
  type EncoderConfig,
} from '../../drivers/encoder/index.js';
import { koffi } from '../../drivers/libc/index.js';

const asyncReady = prepareKoffiForAsyncEncode();

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): what this thread
// spent, whatever else the machine runs. A bench-only libc binding: the
// drivers' libc has no clock_gettime.
const CLOCK_THREAD_CPUTIME_ID = 3;
let clockGettime: ((id: number, ts: BigInt64Array) => number) | undefined;
const timespec = new BigInt64Array(2);
function threadCpuMs(): number {
  clockGettime ??= koffi().load('libc.so.6').func('int clock_gettime(int clk, void *ts)') as (id: number, ts: BigInt64Array) => number;
  clockGettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec[0]!) * 1000 + Number(timespec[1]!) / 1e6;
}

const W = 704;
const H = 576;
const FPS = 25;
const seconds = Number(process.argv[2] ?? 10);
const channels = Number(process.argv[3] ?? Math.max(2, availableParallelism()));
const SOURCE_FRAMES = 100;

const main: EncoderConfig = {
  codec: 'h264',
  width: W,
  height: H,
  fps: FPS,
  bitrateKbps: 2048,
  rateControl: 'cbr',
  gop: 50,
  profile: 'main',
  inputFormat: 'nv12',
  preset: 'veryfast',
};
const sub: EncoderConfig = { ...main, width: W / 2, height: H / 2, bitrateKbps: 256, profile: 'baseline' };

function source(): Uint8Array[] {
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=${FPS},noise=alls=4:allf=t`, '-frames:v', String(SOURCE_FRAMES), '-pix_fmt', 'nv12', '-f', 'rawvideo', '-'],
    { maxBuffer: 1 << 28 },
  );
  const size = rawFrameSize('nv12', W, H);
  // One ArrayBuffer per frame, as a capture driver would hand them out.
  return Array.from({ length: SOURCE_FRAMES }, (_, i) => new Uint8Array(raw.subarray(i * size, (i + 1) * size)));
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

let scaleMsPerFrame = 0;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** One channel, everything on this thread with sync calls: the clean CPU split. */
function inlineChannel(frames: Uint8Array[]): void {
  const m = new X264Encoder({ clock: threadCpuMs });
  const s = new X264Encoder({ clock: threadCpuMs });
  m.configureSync(main);
  s.configureSync(sub);
  const subFrame = new Uint8Array(rawFrameSize('nv12', W / 2, H / 2));
  const n = seconds * FPS;
  let bytesMain = 0;
  let bytesSub = 0;
  let scaleMs = 0;
  // Warm up (JIT, x264 allocations), then measure.
  for (let i = 0; i < 25; i++) m.encodeSync(frames[i % frames.length]!, i), s.encodeSync(downscale2x(frames[i % frames.length]!, 'nv12', W, H, subFrame), i);
  m.stats.nativeMs = 0;
  s.stats.nativeMs = 0;
  const c0 = threadCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const frame = frames[i % frames.length]!;
    const pts = (25 + i) * 40_000;
    for (const u of m.encodeSync(frame, pts)) bytesMain += u.data.length;
    const ts = threadCpuMs();
    downscale2x(frame, 'nv12', W, H, subFrame);
    scaleMs += threadCpuMs() - ts;
    for (const u of s.encodeSync(subFrame, pts)) bytesSub += u.data.length;
  }
  const wall = performance.now() - t0;
  const cpu = threadCpuMs() - c0;
  const native = m.stats.nativeMs + s.stats.nativeMs;
  const perFrame = cpu / n;
  scaleMsPerFrame = scaleMs / n;
  const corePerChannel = (perFrame * FPS) / 1000;
  console.log(`\n## One channel, sync calls on one thread (${n} frames = ${seconds} s of video)`);
  console.log(`main ${W}x${H} ${main.bitrateKbps} kbit/s ${main.preset} -> ${((bytesMain * 8) / seconds / 1000).toFixed(0)} kbit/s; sub ${W / 2}x${H / 2} ${sub.bitrateKbps} kbit/s -> ${((bytesSub * 8) / seconds / 1000).toFixed(0)} kbit/s`);
  console.log(`wall ${wall.toFixed(0)} ms, thread CPU ${cpu.toFixed(0)} ms (all times below are this thread's CPU time, not wall time)`);
  console.log(`CPU per channel-frame: ${perFrame.toFixed(2)} ms -> ${pct(corePerChannel)} of one core per D1 channel at ${FPS} fps -> ${(1 / corePerChannel).toFixed(1)} channels per core`);
  console.log(`inside libx264 (main ${m.stats.nativeMs.toFixed(0)} ms + sub ${s.stats.nativeMs.toFixed(0)} ms): ${pct(native / cpu)} of CPU`);
  console.log(`JavaScript: ${pct(1 - native / cpu)} of CPU, of which the 2:1 scaler ${pct(scaleMs / cpu)} (${(scaleMs / n).toFixed(3)} ms/frame) and driver glue ${pct((cpu - native - scaleMs) / cpu)} (${((cpu - native - scaleMs) / n).toFixed(3)} ms/frame)`);
  console.log('copies per frame between capture buffer and x264 input: main 0 (plane pointers into the capture buffer); sub 0 beyond the scaler writing its half-size output; coded output: 1 copy out of x264\'s NAL buffer');
  m.closeSync();
  s.closeSync();
}

interface Mode {
  name: string;
  make(): Encoder;
}

/**
 * `channels` channels at real-time pace (25 fps each, like capture) for a few
 * seconds: event loop delay and main-thread busy time per frame.
 */
async function realtime(mode: Mode, frames: Uint8Array[], secs: number): Promise<void> {
  const encs: { m: Encoder; s: Encoder; subs: Uint8Array[] }[] = [];
  for (let c = 0; c < channels; c++) {
    const m = mode.make();
    const s = mode.make();
    await m.configure(main);
    await s.configure(sub);
    // A ring of sub-stream pictures: encode() reads its input until it settles.
    encs.push({ m, s, subs: Array.from({ length: 8 }, () => new Uint8Array(rawFrameSize('nv12', W / 2, H / 2))) });
  }
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const c0 = cpuMs();
  const m0 = threadCpuMs();
  const t0 = performance.now();
  delay.enable();
  let done = 0;
  const total = secs * FPS;
  await new Promise<void>((resolve) => {
    let tick = 0;
    const timer = setInterval(() => {
      if (tick >= total) {
        clearInterval(timer);
        return;
      }
      const i = tick++;
      const frame = frames[i % frames.length]!;
      for (const e of encs) {
        const pts = (i + 1) * 40_000;
        e.m.encode(frame, pts).then(() => {
          if (++done === total * channels * 2) resolve();
        });
        // Sub stream: the scaler runs on this thread (a JS function).
        const subFrame = downscale2x(frame, 'nv12', W, H, e.subs[i % e.subs.length]);
        e.s.encode(subFrame, pts).then(() => {
          if (++done === total * channels * 2) resolve();
        });
      }
    }, 1000 / FPS);
  });
  delay.disable();
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  const mainCpu = threadCpuMs() - m0;
  const elu = performance.eventLoopUtilization(elu0);
  const late = Math.max(0, wall - secs * 1000);
  const frameCount = total * channels;
  console.log(
    `${mode.name.padEnd(34)} process CPU ${(cpu / frameCount).toFixed(2)} ms, main thread CPU ${(mainCpu / frameCount).toFixed(2)} ms per channel-frame ` +
      `(of which the scaler ~${scaleMsPerFrame.toFixed(2)}); event loop busy ${pct(elu.utilization)}, ` +
      `event loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms max ${(delay.max / 1e6).toFixed(1)} ms, ` +
      `finished ${late.toFixed(0)} ms after the last frame`,
  );
  for (const e of encs) {
    await e.m.close();
    await e.s.close();
  }
}

/** Throughput with all channels pushed as fast as they go (worker pool). */
async function throughput(frames: Uint8Array[], secs: number): Promise<void> {
  const n = secs * FPS;
  const encs: { m: Encoder; s: Encoder }[] = [];
  for (let c = 0; c < channels; c++) {
    const m = createEncoder('x264');
    const s = createEncoder('x264');
    await m.configure(main);
    await s.configure(sub);
    encs.push({ m, s });
  }
  const c0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(
    encs.map(async (e) => {
      const subFrame = new Uint8Array(rawFrameSize('nv12', W / 2, H / 2));
      for (let i = 0; i < n; i++) {
        const frame = frames[i % frames.length]!;
        const a = e.m.encode(frame, (i + 1) * 40_000);
        await e.s.encode(downscale2x(frame, 'nv12', W, H, subFrame), (i + 1) * 40_000);
        await a;
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  const fps = (n * channels * 1000) / wall;
  console.log(
    `\n## Worker pool flat out: ${channels} channels x ${n} frames on ${encoderPoolThreads()} worker threads: ` +
      `${fps.toFixed(0)} channel-frames/s = ${(fps / FPS).toFixed(1)} real-time D1 channels, process CPU ${(cpu / wall).toFixed(2)} cores ` +
      `(${((cpu / (n * channels)) * FPS / 10).toFixed(1)}% of a core per channel)`,
  );
  for (const e of encs) {
    await e.m.close();
    await e.s.close();
  }
}

async function benchMain(): Promise<void> {
  console.log(`# encoder-x264 on ${cpus()[0]?.model ?? 'unknown CPU'} (${arch()}, ${availableParallelism()} CPUs), node ${process.version}, x264 build ${x264Layout().build}`);
  const frames = source();
  inlineChannel(frames);
  console.log(`\n## ${channels} channels (main+sub) at real-time pace, 4 s, by way of calling libx264`);
  const modes: Mode[] = [
    { name: 'worker pool (createEncoder x264)', make: () => createEncoder('x264') },
    ...(asyncReady ? [{ name: 'koffi .async on the main thread', make: () => new X264Encoder({ calls: 'async' }) }] : []),
    { name: 'sync calls on the main thread', make: () => new X264Encoder({ calls: 'sync' }) },
  ];
  for (const mode of modes) await realtime(mode, frames, 4);
  await throughput(frames, Math.max(2, Math.round(seconds / 2)));
  await shutdownEncoderPool();
}

await benchMain();
