/**
 * Seek latency and recovery time over a month-sized index:
 * `days` × `channels` of 2-minute blocks (a 64 MiB block at 4 Mbit/s), each
 * block indexing 3000 frames. The catalog holds every block; only the blocks
 * the seeks land in (and the newest, "open at the crash", block of each
 * channel) hold real headers, index regions and frame bytes — frames of 64
 * bytes, so the index work is real while the disk image stays small.
 *
 * The ring has wrapped: block numbers start at a random point of the month,
 * so numbers and times disagree, as on a disk that has been recording a while.
 *
 * Prints, each with the load average at the time:
 * - start-up (= recovery after kill -9: catalog replay plus repair of one open
 *   block per channel), `runs` times (the catalog is restored before each);
 * - memory of the loaded index: JS heap growth across the first start (after a
 *   GC before and after), the block table's typed arrays (outside the heap),
 *   and the process RSS with the index loaded;
 * - time to the first chunk of a cursor at a random instant (and its CPU), page cache warm
 *   (the files were just written) and cold (each target file and the loop
 *   device's backing file evicted first with `dd iflag=nocache count=0`,
 *   i.e. posix_fadvise DONTNEED, per file: the machine's other users keep
 *   their cache), with the reference in the same run: open, read of the same
 *   bytes (block header, used index region, first chunk), close, through the
 *   same async file API;
 * - where the seek time goes: frame-index load (read + decode), frame-bytes
 *   read + CRC, GC pauses while seeking;
 * - a month's timeline for one channel.
 *
 *   node --expose-gc dist/scripts/bench/storage-seek.js [days=30] [channels=16] [seeks=1000] [runs=3] [coldSeeks=100]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { EventBus } from '../../firmware/core/bus.js';
import { memoryLogger } from '../../firmware/core/log.js';
import { blockPath, CATALOG_FILE, HEADER_FILE, newId, writeAtomicSync } from '../../firmware/storage/disk.js';
import {
  BLOCK_HEADER_SIZE,
  INDEX_RECORD_SIZE,
  LAYOUT_VERSION,
  encodeBlockHeader,
  encodeCatalogRecord,
  encodeIndexRecord,
  encodeStoreHeader,
} from '../../firmware/storage/format.js';
import { RingStore } from '../../firmware/storage/ring-store.js';
import { benchDisk, machine } from './storage-bench-disk.js';
import { join } from 'node:path';

const days = Number(process.argv[2] ?? 30);
const channels = Number(process.argv[3] ?? 16);
const seeks = Number(process.argv[4] ?? 1000);
const runs = Number(process.argv[5] ?? 3);
const coldSeeks = Number(process.argv[6] ?? 100);
const FRAMES = 3000;
const FRAME = 64;
const BLOCK_US = 120_000_000;
const perChannel = Math.floor((days * 86400e6) / BLOCK_US);
const blockCount = perChannel * channels;
const indexBytes = Math.ceil((FRAMES * INDEX_RECORD_SIZE) / 4096) * 4096;
const blockSize = BLOCK_HEADER_SIZE + indexBytes + 256 * 1024;
const T0 = Date.UTC(2026, 0, 1) * 1000;
const storeId = newId();
const diskId = newId();
const info = { codec: 'h264' as const, config: new Uint8Array(40), width: 1920, height: 1080 };

console.log(`storage-seek on ${machine()}: ${days} days × ${channels} channels = ${blockCount} blocks of ${FRAMES} frames`);
const disk = benchDisk(4096, blockCount < 200_000 ? undefined : 100_000);
console.log(`disk: ${disk.kind}`);

/** Block number of channel c's k-th block: channels interleave, as concurrent recording does, and the ring has wrapped at `shift`. */
const shift = Math.floor(Math.random() * perChannel);
const blockOf = (c: number, k: number): number => ((k + shift) % perChannel) * channels + c;
const load = (): string => `load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
const pct = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
/** Evicts a file from the page cache (posix_fadvise DONTNEED through dd); false if dd cannot. */
function evict(path: string): boolean {
  try {
    execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const startOf = (k: number): number => T0 + k * BLOCK_US;

function writeBlock(no: number, c: number, k: number): void {
  const fd = openSync(blockPath(disk.path, no), 'w');
  ftruncateSync(fd, blockSize);
  writeSync(fd, encodeBlockHeader({ blockNo: no, storeId, diskId, generation: 1, channel: `cam${c}`, stream: 'main', info, openedMs: startOf(k) / 1000 }), 0, BLOCK_HEADER_SIZE, 0);
  const index = Buffer.alloc(FRAMES * INDEX_RECORD_SIZE);
  const data = Buffer.alloc(FRAMES * FRAME);
  for (let i = 0; i < FRAMES; i++) {
    const bytes = data.subarray(i * FRAME, (i + 1) * FRAME);
    bytes.writeUInt32LE(no, 0);
    bytes.writeUInt32LE(i, 4);
    // One flush group per second, like the writer's default.
    encodeIndexRecord({ time: startOf(k) + i * 40_000, offset: i * FRAME, size: FRAME, gen: 1, seq: Math.floor(i / 25) & 0xffff, keyframe: i % 50 === 0, dataCrc: crc32(bytes) }, index, i * INDEX_RECORD_SIZE);
  }
  writeSync(fd, index, 0, index.length, BLOCK_HEADER_SIZE);
  writeSync(fd, data, 0, data.length, BLOCK_HEADER_SIZE + indexBytes);
  closeSync(fd);
}

interface Target { c: number; k: number }

/** The catalog image: every block sealed, except each channel's newest, open as after a kill -9. */
function catalogImage(): Buffer {
  const parts: Buffer[] = [];
  for (let k = 0; k < perChannel; k++) {
    for (let c = 0; c < channels; c++) {
      const open = k === perChannel - 1;
      parts.push(encodeCatalogRecord({
        blockNo: blockOf(c, k), generation: 1, state: open ? 'open' : 'sealed', channel: `cam${c}`, stream: 'main',
        start: startOf(k), end: open ? startOf(k) : startOf(k) + (FRAMES - 1) * 40_000, frames: open ? 0 : FRAMES, bytes: open ? 0 : FRAMES * FRAME, flags: 1,
      }));
    }
  }
  return Buffer.concat(parts);
}

function randomTargets(n: number, avoid: Set<number>): Target[] {
  const out: Target[] = [];
  while (out.length < n) {
    const t = { c: Math.floor(Math.random() * channels), k: Math.floor(Math.random() * (perChannel - 1)) };
    if (!avoid.has(blockOf(t.c, t.k))) out.push(t);
  }
  return out;
}

/** Builds the image; its garbage is dropped before the index is measured. */
function build(): { catalog: Buffer; warm: Target[]; cold: Target[] } {
  const t0 = performance.now();
  mkdirSync(join(disk.path, 'blocks'));
  const catalog = catalogImage();
  writeAtomicSync(disk.path, CATALOG_FILE, catalog);
  const warm = randomTargets(seeks, new Set());
  const written = new Set<number>();
  for (const { c, k } of warm) if (!written.has(blockOf(c, k))) (written.add(blockOf(c, k)), writeBlock(blockOf(c, k), c, k));
  // Cold seeks go to blocks no warm seek touched, so neither the page cache nor the reader's cache holds them.
  const cold = randomTargets(coldSeeks, new Set(written));
  for (const { c, k } of cold) if (!written.has(blockOf(c, k))) (written.add(blockOf(c, k)), writeBlock(blockOf(c, k), c, k));
  for (let c = 0; c < channels; c++) writeBlock(blockOf(c, perChannel - 1), c, perChannel - 1);
  if (!written.has(blockCount - 1)) {
    const fd = openSync(blockPath(disk.path, blockCount - 1), 'a');
    ftruncateSync(fd, blockSize);
    closeSync(fd);
  }
  writeAtomicSync(disk.path, HEADER_FILE, encodeStoreHeader({ version: LAYOUT_VERSION, storeId, diskId, blockSize, blockCount, indexBytes, reserveBytes: 0, createdMs: T0 / 1000 }));
  execFileSync('sync', [], { stdio: 'ignore' });
  console.log(`built the store image in ${((performance.now() - t0) / 1000).toFixed(1)} s (${written.size} blocks with content, ring wrapped at block ${shift * channels})`);
  return { catalog, warm, cold };
}

/**
 * The reference for one seek: what any reader of this format must do at least,
 * through the same async file API the store uses: open the block file, read
 * the header and used index region, read the first chunk, close.
 */
async function rawRead(no: number, firstChunkAt: number, firstChunkLen: number): Promise<void> {
  const fh = await open(blockPath(disk.path, no), 'r');
  try {
    await fh.read(Buffer.allocUnsafe(BLOCK_HEADER_SIZE + FRAMES * INDEX_RECORD_SIZE), 0, BLOCK_HEADER_SIZE + FRAMES * INDEX_RECORD_SIZE, 0);
    await fh.read(Buffer.allocUnsafe(firstChunkLen), 0, firstChunkLen, BLOCK_HEADER_SIZE + indexBytes + firstChunkAt);
  } finally {
    await fh.close();
  }
}

interface ReaderStats { indexLoads: number; indexMs: number; indexHits: number; dataReads: number; dataMs: number }

async function seekRun(store: RingStore, targets: Target[], cold: boolean): Promise<void> {
  const reader = (store as unknown as { reader?: { stats?: ReaderStats } }).reader;
  const s0 = { ...(reader?.stats ?? { indexLoads: 0, indexMs: 0, indexHits: 0, dataReads: 0, dataMs: 0 }) };
  let gcMs = 0;
  let gcs = 0;
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) (gcMs += e.duration, gcs++);
  });
  obs.observe({ entryTypes: ['gc'] });
  const lat: number[] = [];
  const ref: number[] = [];
  let evicted = true;
  // CPU of the seeks alone (all threads: the libuv pool's reads and GC helpers count too): less load-dependent than latency.
  let cpuUs = 0;
  for (const { c, k } of targets) {
    const i = Math.floor(Math.random() * FRAMES);
    const at = startOf(k) + i * 40_000;
    const key = i - (i % 50);
    const no = blockOf(c, k);
    if (cold) evicted = evict(blockPath(disk.path, no)) && (disk.image ? evict(disk.image) : true) && evicted;
    const cpu0 = process.cpuUsage();
    const q0 = performance.now();
    const cur = store.cursor({ channel: `cam${c}`, stream: 'main', from: at });
    const first = await cur.next();
    lat.push(performance.now() - q0);
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    await cur.return(undefined);
    if (first.done || first.value.frames[0]!.time > at) throw new Error(`seek to ${at} on cam${c} found nothing before it`);
    if (cold) (evict(blockPath(disk.path, no)), disk.image && evict(disk.image));
    const r0 = performance.now();
    await rawRead(no, key * FRAME, (i - key + 1) * FRAME);
    ref.push(performance.now() - r0);
  }
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  lat.sort((a, b) => a - b);
  ref.sort((a, b) => a - b);
  const f = (x: number): string => x.toFixed(2);
  const what = cold ? (evicted ? 'cold cache' : 'cache NOT evicted (dd failed)') : 'warm cache';
  console.log(`seek (cursor to first chunk, ${what}) over ${targets.length} random instants: p50 ${f(pct(lat, 0.5))} ms, p99 ${f(pct(lat, 0.99))} ms, max ${f(lat[lat.length - 1]!)} ms (target p99 ≤ 20 ms); CPU ${(cpuUs / 1000 / targets.length).toFixed(2)} ms per seek; ${load()}`);
  console.log(`  reference, open + read of the same bytes + close (async, as the store reads): p50 ${f(pct(ref, 0.5))} ms, p99 ${f(pct(ref, 0.99))} ms → seek/reference p50 ${(pct(lat, 0.5) / pct(ref, 0.5)).toFixed(1)}×, p99 ${(pct(lat, 0.99) / pct(ref, 0.99)).toFixed(1)}×`);
  if (reader?.stats) {
    const s = reader.stats;
    const loads = s.indexLoads - s0.indexLoads;
    const reads = s.dataReads - s0.dataReads;
    console.log(`  where it goes: ${loads} frame-index loads (${f((s.indexMs - s0.indexMs) / Math.max(1, loads))} ms each: read + decode), ${s.indexHits - s0.indexHits} index-cache hits; ${reads} frame reads (${f((s.dataMs - s0.dataMs) / Math.max(1, reads))} ms each: read + CRC); GC ${gcs} pauses, ${f(gcMs)} ms in all (${f(gcMs / targets.length)} ms per seek)`);
  }
}

try {
  const { catalog, warm, cold } = build();
  let store: RingStore | undefined;
  const starts: number[] = [];
  const startCpu: number[] = [];
  let mem = '';
  for (let run = 0; run < runs; run++) {
    // The same kill -9 state every time: the catalog with one open block per channel.
    writeAtomicSync(disk.path, CATALOG_FILE, catalog);
    gc();
    const m0 = process.memoryUsage();
    const c0 = process.cpuUsage();
    const s0 = performance.now();
    store = new RingStore({ bus: new EventBus(), log: memoryLogger('bench'), disks: [{ name: 'd0', path: disk.path }] });
    await store.start();
    const ms = performance.now() - s0;
    const cpu = process.cpuUsage(c0);
    starts.push(ms);
    startCpu.push((cpu.user + cpu.system) / 1000);
    const indexed = store.disks().reduce((n, d) => n + d.blocks - d.freeBlocks, 0);
    console.log(`start-up / recovery after kill -9, run ${run + 1}: ${ms.toFixed(0)} ms for ${blockCount} catalog records and ${channels} open blocks repaired (${indexed} blocks indexed), CPU ${startCpu[startCpu.length - 1]!.toFixed(0)} ms; ${load()}`);
    gc();
    const m1 = process.memoryUsage();
    // The block tables' typed arrays live outside the JS heap (37 bytes a block); a store without them reports none.
    const tables = ((store as unknown as { diskList?: { table?: { count: number } }[] }).diskList ?? []).reduce((n, d) => n + (d.table?.count ?? 0) * 37, 0);
    mem = `JS heap +${mib(m1.heapUsed - m0.heapUsed)} MiB, block table ${tables ? `${mib(tables)} MiB of typed arrays` : 'none'}, process RSS ${mib(m1.rss)} MiB`;
    if (run === 0) console.log(`memory of the loaded index: ${mem}${(globalThis as { gc?: unknown }).gc ? ' (after GC)' : ' (run with --expose-gc for figures after GC)'}`);
    if (run < runs - 1) await store.stop();
  }
  starts.sort((a, b) => a - b);
  startCpu.sort((a, b) => a - b);
  console.log(`start-up over ${runs} runs: min ${starts[0]!.toFixed(0)} ms, median ${pct(starts, 0.5).toFixed(0)} ms, max ${starts[starts.length - 1]!.toFixed(0)} ms; CPU median ${pct(startCpu, 0.5).toFixed(0)} ms; reference: reading the ${mib(catalog.length)} MiB catalog ${(() => { const r0 = performance.now(); readFileSync(join(disk.path, CATALOG_FILE)); return (performance.now() - r0).toFixed(0); })()} ms`);

  await seekRun(store!, warm, false);
  if (coldSeeks > 0) await seekRun(store!, cold, true);

  const tl0 = performance.now();
  const tl = store!.timeline('cam0', 'main', T0, T0 + days * 86400e6);
  console.log(`timeline of one channel over ${days} days: ${(performance.now() - tl0).toFixed(1)} ms (${tl.segments.length} segments, ${tl.gaps.length} gaps); ${load()}`);
  await store!.stop();
} finally {
  disk.cleanup();
}
