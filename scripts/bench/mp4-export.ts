/**
 * MP4 export throughput and memory: exports a synthetic one-hour recording
 * (4 Mbit/s H.264 at 25 fps, GOP 2 s, plus 64 kbit/s AAC) to a file with
 * exportMp4, then writes the very same frame bytes with plain FileHandle
 * writes (one per frame, and gathered into 1 MiB blocks as the exporter
 * does), all ending in fsync, and prints the rates, the ratios and the peak
 * RSS of the export.
 *
 *   node dist/scripts/bench/mp4-export.js [minutes=60] [dir=os.tmpdir()]
 *
 * The frame payloads are one GOP's worth of buffers reused cyclically, so
 * the source costs nothing and holds ~1 MB: memory growth is the exporter's.
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, rm, stat } from 'node:fs/promises';
import { exportMp4 } from '../../firmware/media/mp4/export.js';
import { buildAvcC } from '../../firmware/media/h264.js';
import { buildAudioSpecificConfig } from '../../firmware/media/aac.js';
import type { Frame } from '../../firmware/media/types.js';

const minutes = Number(process.argv[2] ?? 60);
const dir = process.argv[3] ?? tmpdir();
const FPS = 25;
const GOP = 50;
const VIDEO_BPS = 4_000_000;
const AAC_FRAME_US = (1024 / 48000) * 1e6;
const AAC_BYTES = Math.round((64_000 / 8) * (AAC_FRAME_US / 1e6));
const T0 = Date.UTC(2026, 0, 1) * 1000;

/** A length-prefixed access unit of `size` bytes with a slice NAL of `type`. */
function accessUnit(size: number, type: number): Uint8Array {
  const au = new Uint8Array(size);
  for (let i = 8; i < size; i++) au[i] = (i * 2654435761) >>> 24;
  new DataView(au.buffer).setUint32(0, size - 4);
  au[4] = type;
  return au;
}

// Keyframes 5x a P-frame, averaging the target bitrate.
const avg = VIDEO_BPS / 8 / FPS;
const pSize = Math.round((avg * GOP) / (GOP + 4));
const gop = Array.from({ length: GOP }, (_, i) => (i === 0 ? accessUnit(pSize * 5, 0x65) : accessUnit(pSize, 0x41)));
const aacFrame = accessUnit(AAC_BYTES, 0x21);
const videoCount = minutes * 60 * FPS;
const audioCount = Math.floor((minutes * 60 * 1e6) / AAC_FRAME_US);

function* video(): Generator<Frame> {
  for (let i = 0; i < videoCount; i++) yield { time: T0 + i * 40_000, keyframe: i % GOP === 0, data: gop[i % GOP]! };
}
function* audio(): Generator<Frame> {
  for (let i = 0; i < audioCount; i++) yield { time: T0 + Math.round(i * AAC_FRAME_US), keyframe: true, data: aacFrame };
}

const sps = Uint8Array.of(0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58);
const pps = Uint8Array.of(0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0);

/** Reference: the same frame bytes with FileHandle.write, each frame or gathered in 1 MiB blocks, then fsync. */
async function plainWrite(gather: boolean): Promise<{ bytes: number; secs: number }> {
  const ref = join(dir, `bench-plain-${process.pid}.bin`);
  const t = performance.now();
  const fh = await open(ref, 'w');
  const block = new Uint8Array(1 << 20);
  let used = 0;
  let bytes = 0;
  for (const gen of [video, audio]) {
    for (const f of gen()) {
      bytes += f.data.length;
      if (!gather) {
        await fh.write(f.data);
        continue;
      }
      if (used + f.data.length > block.length) {
        await fh.write(block, 0, used);
        used = 0;
      }
      if (f.data.length > block.length) await fh.write(f.data);
      else (block.set(f.data, used), (used += f.data.length));
    }
  }
  if (used) await fh.write(block, 0, used);
  await fh.sync();
  await fh.close();
  const secs = (performance.now() - t) / 1000;
  await rm(ref);
  return { bytes, secs };
}

/** One export to a file; checks the size it reports. */
async function exportOnce(): Promise<{ bytes: number; secs: number }> {
  const out = join(dir, `bench-export-${process.pid}.mp4`);
  const t = performance.now();
  const res = await exportMp4(out, [
    { info: { codec: 'h264', config: buildAvcC([sps], [pps]) }, frames: video },
    { info: { codec: 'aac', config: buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 }) }, frames: audio },
  ]);
  const secs = (performance.now() - t) / 1000;
  const size = (await stat(out)).size;
  if (size !== res.bytes) throw new Error(`file is ${size} bytes, export said ${res.bytes}`);
  await rm(out);
  return { bytes: res.bytes, secs };
}

async function main(): Promise<void> {
  console.log(`mp4-export on ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
  console.log(`source: ${minutes} min, ${videoCount} video frames (${(VIDEO_BPS / 1e6).toFixed(1)} Mbit/s, GOP ${GOP}) + ${audioCount} AAC frames, in ${dir}`);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  let exporting = false;
  const sampler = setInterval(() => exporting && (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const exportRun = async (): Promise<{ bytes: number; secs: number }> => {
    exporting = true;
    try {
      return await exportOnce();
    } finally {
      peak = Math.max(peak, process.memoryUsage().rss);
      exporting = false;
    }
  };
  // Interleaved runs, so page-cache and writeback state favour no one; rates are the mean of two.
  const blocks1 = await plainWrite(true);
  const export1 = await exportRun();
  const plain = await plainWrite(false);
  const export2 = await exportRun();
  const blocks2 = await plainWrite(true);
  clearInterval(sampler);

  const mb = (n: number): string => (n / 1e6).toFixed(1);
  const rate = (...runs: { bytes: number; secs: number }[]): number => runs.reduce((r, x) => r + x.bytes / 1e6 / x.secs, 0) / runs.length;
  const line = (name: string, runs: { bytes: number; secs: number }[]): void =>
    console.log(`${name.padEnd(28)} ${mb(runs[0]!.bytes)} MB in ${runs.map((r) => r.secs.toFixed(2)).join(' / ')} s = ${rate(...runs).toFixed(1)} MB/s`);
  line('exportMp4', [export1, export2]);
  console.log(`  (ftyp+moov+mdat header: ${((export1.bytes - plain.bytes) / 1024).toFixed(0)} KiB)`);
  line('plain write per frame', [plain]);
  line('plain write in 1 MiB blocks', [blocks1, blocks2]);
  console.log(`ratio export / per-frame writes: ${(rate(export1, export2) / rate(plain)).toFixed(2)}`);
  console.log(`ratio export / 1 MiB block writes: ${(rate(export1, export2) / rate(blocks1, blocks2)).toFixed(2)} (of the best runs: ${(Math.min(blocks1.secs, blocks2.secs) / Math.min(export1.secs, export2.secs)).toFixed(2)})`);
  console.log(`RSS: ${mb(rssBefore)} MB before, ${mb(peak)} MB peak during the exports (+${mb(peak - rssBefore)} MB); process maxRSS ${mb(process.resourceUsage().maxRSS * 1024)} MB`);
}

await main();
