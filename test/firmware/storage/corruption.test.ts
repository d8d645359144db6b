/**
 * Damaged disks: each case gets a clear state or log line and a defined
 * outcome — the store starts, serves what is intact, never serves bytes that
 * do not match their checksums.
 */
import t, { type Test } from 'tap';
import { appendFileSync, openSync, readFileSync, closeSync, writeSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame } from '../../../firmware/media/types.js';
import { CATALOG_FILE, HEADER_FILE, LOCKS_FILE, blockPath, formatDisk, newId } from '../../../firmware/storage/disk.js';
import { BLOCK_HEADER_SIZE, INDEX_RECORD_SIZE } from '../../../firmware/storage/format.js';
import { H264, captureEvents, frame, makeDisks, readAll, storeWith } from './helpers.js';

// Real disks on a shared machine: fdatasync can be slow, so allow more than the runner's default.
t.setTimeout(300_000);

const NOW = Date.UTC(2026, 0, 1, 0, 5);
const T0 = Date.UTC(2026, 0, 1) * 1000;
const fmt = { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 12, reserveBytes: 0 };

/** A disk with 400 frames of one stream on it (several blocks), store stopped. */
async function recorded(t: Test): Promise<{ path: string; sent: Frame[] }> {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const { store } = storeWith([d.disks[0]!.path], { clock: new ManualClock(NOW), format: fmt });
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const sent: Frame[] = [];
  for (let i = 0; i < 400; i++) {
    const f = frame('c', i, T0, { size: 2000 });
    sent.push(f);
    store.append('c', 'main', f);
  }
  await store.stop();
  return { path: d.disks[0]!.path, sent };
}

function patch(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

t.test('disk states at start: unformatted, missing, foreign, damaged header', async (t) => {
  const d = makeDisks(4, 16);
  t.teardown(d.cleanup);
  const [a, b, c, e] = d.disks.map((x) => x.path) as [string, string, string, string];
  const store1 = newId();
  await formatDisk(a, { storeId: store1, ...fmt });
  await formatDisk(b, { storeId: newId(), ...fmt });
  await formatDisk(c, { storeId: store1, ...fmt });
  patch(join(c, HEADER_FILE), 60, Uint8Array.from([0xff]));
  const { store, bus, log } = storeWith([], {
    storeId: store1,
    format: undefined,
    disks: [{ name: 'a', path: a }, { name: 'b', path: b }, { name: 'c', path: c }, { name: 'e', path: e }, { name: 'gone', path: join(e, 'nope') }],
  });
  const states = captureEvents(bus, 'diskState');
  await store.start();
  t.same(states.map((s) => [s.disk, s.state]), [['a', 'ok'], ['b', 'foreign'], ['c', 'failed'], ['e', 'unformatted'], ['gone', 'missing']]);
  t.match(states[1]!.detail, /belongs to store/);
  t.match(states[2]!.detail, /checksum mismatch/, 'damaged header: says checksum');
  t.ok(log.ring.tail(50).some((r) => r.msg === 'disk b is foreign'), 'logged by disk name');
  store.setStreamInfo('x', 'main', H264);
  store.append('x', 'main', frame('x', 0, T0));
  await store.flush();
  t.same(new Set(store.blocks().map((x) => x.disk)), new Set(['a']), 'only the good disk is written');
  await store.stop();
  t.ok(readFileSync(join(b, HEADER_FILE)).length === 128, 'the foreign disk is left alone');
});

t.test('a formatted disk is never sparse and has the promised geometry', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const h = await formatDisk(d.disks[0]!.path, { storeId: newId(), ...fmt, blockCount: 4 });
  const { statSync } = await import('node:fs');
  for (let i = 0; i < 4; i++) {
    const s = statSync(blockPath(d.disks[0]!.path, i));
    t.equal(s.size, fmt.blockSize);
    t.ok(s.blocks * 512 >= fmt.blockSize, `block ${i}: ${s.blocks * 512} bytes allocated (not sparse)`);
  }
  t.equal(h.blockCount, 4);
  await t.rejects(formatDisk(d.disks[0]!.path, { storeId: newId(), ...fmt }), /already holds a store header/, 'refuses to format twice');
});

t.test('a truncated block file: its frames are skipped with a warning, the rest is served', async (t) => {
  const { path, sent } = await recorded(t);
  truncateSync(blockPath(path, 1), 5000);
  const { store, log } = storeWith([path], { clock: new ManualClock(NOW), format: undefined });
  await store.start();
  const got = await readAll(store, 'c', 'main');
  t.ok(got.length > 0 && got.length < sent.length, `served ${got.length} of ${sent.length}`);
  const byTime = new Map(sent.map((f) => [f.time, f]));
  t.ok(got.every((f) => Buffer.compare(f.data, byTime.get(f.time)!.data) === 0), 'what is served is bit-exact');
  t.ok(log.ring.tail(50, 'warn').some((r) => r.msg === 'block unreadable: skipped'), 'warned');
  await store.stop();
});

t.test('a corrupt index record: the block serves its valid prefix', async (t) => {
  const { path, sent } = await recorded(t);
  // Flip one byte in the 30th index record of block 0.
  patch(blockPath(path, 0), BLOCK_HEADER_SIZE + 30 * INDEX_RECORD_SIZE + 3, Uint8Array.from([0x5a]));
  const { store, log } = storeWith([path], { clock: new ManualClock(NOW), format: undefined });
  await store.start();
  const got = await readAll(store, 'c', 'main', T0, sent[60]!.time);
  t.same(got.slice(0, 30).map((f) => f.time), sent.slice(0, 30).map((f) => f.time), 'frames before the bad record');
  t.notOk(got.some((f) => f.time === sent[30]!.time), 'the bad record is not served');
  t.ok(log.ring.tail(50, 'warn').some((r) => r.msg === 'block index damaged: serving its valid prefix'));
  await store.stop();
});

t.test('frame bytes that do not match their index are never served', async (t) => {
  const { path, sent } = await recorded(t);
  // Corrupt the data of frame 5 (index record 5 of block 0 says where it is).
  const rec = readFileSync(blockPath(path, 0)).subarray(BLOCK_HEADER_SIZE + 5 * INDEX_RECORD_SIZE);
  const offset = rec.readUInt32LE(8);
  patch(blockPath(path, 0), BLOCK_HEADER_SIZE + fmt.indexBytes + offset + 10, Uint8Array.from([0x00, 0x11, 0x22]));
  const { store, log } = storeWith([path], { clock: new ManualClock(NOW), format: undefined });
  await store.start();
  const got = await readAll(store, 'c', 'main', T0, sent[60]!.time);
  const times = got.map((f) => f.time);
  t.same(times.slice(0, 5), sent.slice(0, 5).map((f) => f.time), 'frames before are served');
  t.notOk(times.includes(sent[5]!.time), 'the damaged frame is not');
  t.notOk(times.includes(sent[10]!.time), 'nor the frames that depend on it');
  t.ok(times.includes(sent[25]!.time), 'playback resumes at the next keyframe');
  t.ok(log.ring.tail(50, 'warn').some((r) => r.msg === 'frame does not match its index record: skipped'));
  await store.stop();
});

t.test('a damaged catalog tail is cut off and the store keeps recording', async (t) => {
  const { path, sent } = await recorded(t);
  appendFileSync(join(path, CATALOG_FILE), Buffer.from('garbage that is not a record'));
  const { store, log } = storeWith([path], { clock: new ManualClock(NOW), format: undefined });
  await store.start();
  t.ok(log.ring.tail(50, 'warn').some((r) => /catalog of disk d0 damaged/.test(r.msg)), 'warned');
  t.equal((await readAll(store, 'c', 'main')).length, sent.length, 'everything still there');
  store.setStreamInfo('c', 'main', H264);
  store.append('c', 'main', frame('c', 400, T0, { size: 2000 }));
  await store.stop();
  const again = storeWith([path], { clock: new ManualClock(NOW), format: undefined });
  await again.store.start();
  t.equal((await readAll(again.store, 'c', 'main')).length, sent.length + 1, 'and the new frame after the cut');
  t.notOk(again.log.ring.tail(50, 'warn').some((r) => /damaged/.test(r.msg)), 'no damage left');
  await again.store.stop();
});

t.test('a damaged locks file is ignored in favour of another copy', async (t) => {
  const d = makeDisks(2, 16);
  t.teardown(d.cleanup);
  const paths = d.disks.map((x) => x.path);
  const { store } = storeWith(paths, { clock: new ManualClock(NOW), format: fmt });
  await store.start();
  const l = store.lock({ channel: 'c', start: 1, end: 2, reason: 'test' });
  await store.stop();
  writeFileSync(join(paths[0]!, LOCKS_FILE), '{"seq": 99, "locks": []}\nbad\n');
  const again = storeWith(paths, { clock: new ManualClock(NOW), format: undefined });
  await again.store.start();
  t.same(again.store.locks().map((x) => x.id), [l.id], 'lock kept from the good copy');
  t.ok(again.log.ring.tail(50, 'warn').some((r) => r.msg === 'ignoring a damaged locks file'));
  await again.store.stop();
  rmSync(join(paths[1]!, LOCKS_FILE));
});
