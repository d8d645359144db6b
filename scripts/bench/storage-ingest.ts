/**
 * Recording throughput of the store on one ext4 loop disk, against dd on the
 * same disk in the same run:
 *  1. dd if=/dev/zero bs=1M conv=fdatasync: the disk's sequential write rate;
 *  2. the store's max sustained rate (16 streams fed as fast as it accepts), ratio to dd (target ≥ 0.8);
 *  3. real-time ingest of N channels × 4 Mbit/s 25 fps for `seconds`, N doubling until frames drop:
 *     largest N with no drop, CPU per channel, write amplification (device bytes ÷ media bytes,
 *     target ≤ 1.02), peak RSS.
 *
 *   node dist/scripts/bench/storage-ingest.js [seconds=60] [channels=8,16,32,64] [diskMiB=4096] [zero]
 *
 * `zero` formats with zeroFill (blocks written once at format, as they are
 * after the first pass over the ring): the steady-state write amplification.
 */
import { execFileSync } from 'node:child_process';
import { statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../firmware/core/bus.js';
import { memoryLogger } from '../../firmware/core/log.js';
import type { StreamInfo } from '../../firmware/media/types.js';
import { RingStore } from '../../firmware/storage/ring-store.js';
import { benchDisk, deviceBytesWritten, gopFrames, machine } from './storage-bench-disk.js';

const seconds = Number(process.argv[2] ?? 60);
const counts = (process.argv[3] ?? '8,16,32,64').split(',').map(Number);
const diskMiB = Number(process.argv[4] ?? 4096);
const zeroFill = process.argv[5] === 'zero';
const INFO: StreamInfo = { codec: 'h264', config: new Uint8Array(40), width: 1920, height: 1080 };
const gop = gopFrames();

console.log(`storage-ingest on ${machine()}; ${seconds} s per run`);
const disk = benchDisk(diskMiB);
console.log(`disk: ${disk.kind}${disk.device ? ` (${disk.device}, ${diskMiB} MiB ext4)` : ''}${zeroFill ? ', blocks zero-filled at format' : ', blocks fallocated (unwritten extents)'}`);

async function newStore(): Promise<RingStore> {
  const s = new RingStore({
    bus: new EventBus(),
    log: memoryLogger('bench'),
    disks: [{ name: 'd0', path: disk.path }],
    format: { blockSize: 64 * 1024 * 1024, reserveBytes: 256 * 1024 * 1024, zeroFill },
  });
  await s.start();
  return s;
}

function ddRate(): number {
  const file = join(disk.path, '..', 'dd.bin');
  const count = 1024;
  const t0 = performance.now();
  execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${count}`, 'conv=fdatasync'], { stdio: 'ignore' });
  const s = (performance.now() - t0) / 1000;
  const bytes = statSync(file).size;
  unlinkSync(file);
  return bytes / s;
}

async function maxRate(store: RingStore, streams: number, forSeconds: number): Promise<number> {
  const names = Array.from({ length: streams }, (_, i) => `max${i}`);
  for (const n of names) store.setStreamInfo(n, 'main', INFO);
  const t0 = performance.now();
  let i = 0;
  const base = Date.now() * 1000;
  const before = Object.values(store.writerStats()).reduce((n, s) => n + s.bytes, 0);
  while (performance.now() - t0 < forSeconds * 1000) {
    for (const n of names) {
      if (!store.append(n, 'main', { time: base + i * 40_000, keyframe: i % 50 === 0, data: gop[i % 50]! })) await store.flush(n, 'main');
    }
    i++;
    if (i % 25 === 0) await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  const s = (performance.now() - t0) / 1000;
  const after = Object.values(store.writerStats()).reduce((n, st) => n + st.bytes, 0);
  for (const n of names) await store.closeStream(n, 'main');
  return (after - before) / s;
}

async function realtime(store: RingStore, n: number): Promise<{ dropped: number; cpuPerChannel: number; amplification: number; rssMiB: number; media: number }> {
  const names = Array.from({ length: n }, (_, i) => `cam${n}-${i}`);
  for (const c of names) store.setStreamInfo(c, 'main', INFO);
  const dev0 = deviceBytesWritten(disk.device);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = 0;
  let tick = 0;
  let media = 0;
  // One tick every 40 ms of wall time; late ticks catch up so the offered rate stays exact.
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor((performance.now() - t0) / 40);
    for (; tick <= due; tick++) {
      const time = Date.now() * 1000 + (tick - due) * 40_000;
      for (const c of names) {
        const data = gop[tick % 50]!;
        store.append(c, 'main', { time, keyframe: tick % 50 === 0, data });
        media += data.byteLength;
      }
    }
    if (tick % 25 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await new Promise((r) => setTimeout(r, 10));
  }
  await store.flush();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Read before closing: a closed stream's writer (and its counters) is gone.
  const stats = store.writerStats();
  for (const c of names) await store.closeStream(c, 'main');
  // Let the kernel write back whatever is dirty so every written byte is counted.
  execFileSync('sync');
  const written = deviceBytesWritten(disk.device) - dev0;
  const dropped = names.reduce((k, c) => k + (stats[`${c}/main`]?.dropped ?? 0), 0);
  return { dropped, cpuPerChannel: (cpu.user + cpu.system) / 1e6 / wall / n, amplification: written / media, rssMiB: peakRss / 2 ** 20, media };
}

try {
  const dd = ddRate();
  console.log(`dd bs=1M conv=fdatasync: ${(dd / 2 ** 20).toFixed(1)} MiB/s`);
  const store = await newStore();
  const max = await maxRate(store, 16, Math.min(20, seconds));
  console.log(`store max sustained (16 streams, flush per 4 MiB batch + fdatasync): ${(max / 2 ** 20).toFixed(1)} MiB/s = ${(max / dd).toFixed(2)} × dd (target ≥ 0.8)`);
  let best = 0;
  for (const n of counts) {
    const r = await realtime(store, n);
    console.log(
      `${n} ch × 4 Mbit/s for ${seconds} s: dropped ${r.dropped} frames, CPU ${(r.cpuPerChannel * 100).toFixed(2)} % of a core per channel, ` +
        `write amplification ${disk.device ? r.amplification.toFixed(4) : 'n/a'} (${(r.media / 2 ** 20).toFixed(0)} MiB media), peak RSS ${r.rssMiB.toFixed(0)} MiB`,
    );
    if (r.dropped > 0) break;
    best = n;
  }
  console.log(`largest N with no drop: ${best}`);
  await store.stop();
} finally {
  disk.cleanup();
}
