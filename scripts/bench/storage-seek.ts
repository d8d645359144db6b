/**
 * Seek latency and recovery time over a month-sized index:
 * `days` × `channels` of 2-minute blocks (a 64 MiB block at 4 Mbit/s), each
 * block indexing 3000 frames. The catalog holds every block; only the blocks
 * the seeks land in (and the newest, "open at the crash", block of each
 * channel) hold real headers, index regions and frame bytes — frames of 64
 * bytes, so the index work is real while the disk image stays small.
 *
 * Prints: start-up (= recovery after kill -9: catalog replay plus repair of
 * one open block per channel), RSS of the loaded index, time to the first
 * chunk of a cursor at a random instant (p50/p99, page cache warm: the files
 * were just written), and a month's timeline for one channel.
 *
 *   node dist/scripts/bench/storage-seek.js [days=30] [channels=16] [seeks=1000]
 */
import { closeSync, mkdirSync, openSync, writeSync, ftruncateSync } from 'node:fs';
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

/** Block number of channel c's k-th block: channels interleave, as concurrent recording does. */
const blockOf = (c: number, k: number): number => k * channels + c;
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

try {
  const t0 = performance.now();
  mkdirSync(join(disk.path, 'blocks'));
  // The catalog: every block sealed, except each channel's newest, open as after a kill -9.
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
  writeAtomicSync(disk.path, CATALOG_FILE, Buffer.concat(parts));
  const targets: { c: number; k: number }[] = [];
  for (let i = 0; i < seeks; i++) targets.push({ c: Math.floor(Math.random() * channels), k: Math.floor(Math.random() * (perChannel - 1)) });
  const written = new Set<number>();
  for (const { c, k } of targets) if (!written.has(blockOf(c, k))) (written.add(blockOf(c, k)), writeBlock(blockOf(c, k), c, k));
  for (let c = 0; c < channels; c++) writeBlock(blockOf(c, perChannel - 1), c, perChannel - 1);
  if (!written.has(blockCount - 1)) {
    const fd = openSync(blockPath(disk.path, blockCount - 1), 'a');
    ftruncateSync(fd, blockSize);
    closeSync(fd);
  }
  writeAtomicSync(disk.path, HEADER_FILE, encodeStoreHeader({ version: LAYOUT_VERSION, storeId, diskId, blockSize, blockCount, indexBytes, reserveBytes: 0, createdMs: T0 / 1000 }));
  console.log(`built the store image in ${((performance.now() - t0) / 1000).toFixed(1)} s (${written.size} blocks with content)`);

  const rss0 = process.memoryUsage().rss;
  const s0 = performance.now();
  const store = new RingStore({ bus: new EventBus(), log: memoryLogger('bench'), disks: [{ name: 'd0', path: disk.path }] });
  await store.start();
  const startMs = performance.now() - s0;
  const repaired = store.blocks().filter((b) => b.frames === FRAMES).length;
  console.log(`start-up / recovery after kill -9: ${startMs.toFixed(0)} ms for ${blockCount} catalog records and ${channels} open blocks repaired (${repaired} blocks indexed)`);
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  console.log(`memory of the loaded index: RSS +${((mem.rss - rss0) / 2 ** 20).toFixed(0)} MiB, JS heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB${(globalThis as { gc?: unknown }).gc ? ' (after GC)' : ' (run with --expose-gc for the figure after GC)'}`);

  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  for (const { c, k } of targets) {
    const at = startOf(k) + Math.floor(Math.random() * FRAMES) * 40_000;
    const q0 = performance.now();
    const cur = store.cursor({ channel: `cam${c}`, stream: 'main', from: at });
    const first = await cur.next();
    lat.push(performance.now() - q0);
    await cur.return(undefined);
    if (first.done || first.value.frames[0]!.time > at) throw new Error(`seek to ${at} on cam${c} found nothing before it`);
  }
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const p = (q: number): string => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(2);
  console.log(`seek (cursor to first chunk, warm cache) over ${seeks} random instants: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${lat[lat.length - 1]!.toFixed(2)} ms (target p99 ≤ 20 ms); CPU ${((cpu.user + cpu.system) / 1000 / seeks).toFixed(2)} ms per seek (load-independent part)`);

  const tl0 = performance.now();
  const tl = store.timeline('cam0', 'main', T0, T0 + days * 86400e6);
  console.log(`timeline of one channel over ${days} days: ${(performance.now() - tl0).toFixed(1)} ms (${tl.segments.length} segments, ${tl.gaps.length} gaps)`);
  await store.stop();
} finally {
  disk.cleanup();
}
