/**
 * Filling the disks: overwrite-oldest, stop-when-full, locks (by hand, with
 * expiry, "everything left is locked"), max age, quota and disk groups.
 */
import t from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame } from '../../../firmware/media/types.js';
import type { RingStore } from '../../../firmware/storage/ring-store.js';
import { H264, captureEvents, frame, makeDisks, readAll, storeWith } from './helpers.js';

// Real disks on a shared machine: fdatasync can be slow, so allow more than the runner's default.
t.setTimeout(300_000);

const NOW = Date.UTC(2026, 0, 1, 0, 0);
const T0 = NOW * 1000;
// 8 blocks of 256 KiB per disk: about 25 s of 3 KB frames per block.
const small = { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 8, reserveBytes: 0 };

async function record(store: RingStore, clock: ManualClock, channel: string, from: number, to: number, sent?: Frame[]): Promise<void> {
  for (let i = from; i < to; i++) {
    const f = frame(channel, i, T0, { size: 2000 });
    sent?.push(f);
    store.append(channel, 'main', f);
    if (i % 100 === 99) {
      await clock.advance(4000);
      await store.flush();
    }
  }
  await store.flush();
}

t.test('disk filling: the oldest block is overwritten, with an event per block', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  t.comment(`disks: ${d.kind}`);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], { clock, format: small });
  const over = captureEvents(bus, 'storageOverwrite');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const sent: Frame[] = [];
  await record(store, clock, 'c', 0, 2000, sent);
  t.ok(over.length > 0, `${over.length} overwrite events`);
  t.ok(over.every((e, i) => i === 0 || e.start > over[i - 1]!.start), 'oldest first');
  t.equal(over[0]!.start, T0, 'the first recording went first');
  const got = await readAll(store, 'c', 'main');
  const first = sent.findIndex((f) => f.time === got[0]!.time);
  t.ok(first > 0, 'the oldest frames are gone');
  t.same(got.map((f) => f.time), sent.slice(first).map((f) => f.time), 'everything newer is there, in order');
  t.equal(store.disks()[0]!.freeBlocks, 0);
  await store.stop();
});

t.test('stop-when-full: recording stops with an alarm, nothing is deleted', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], { clock, format: small, retention: { mode: 'stop' } });
  const alarms = captureEvents(bus, 'storageAlarm');
  const states = captureEvents(bus, 'diskState');
  const over = captureEvents(bus, 'storageOverwrite');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  await record(store, clock, 'c', 0, 2000);
  t.equal(over.length, 0, 'nothing overwritten');
  t.match(alarms, [{ kind: 'full', active: true, channel: 'c' }], 'one full alarm');
  t.ok(states.some((s) => s.state === 'full' && s.disk === 'd0'), 'disk state full');
  t.ok(store.writerStats()['c/main']!.dropped > 0, 'new frames dropped');
  const got = await readAll(store, 'c', 'main');
  t.equal(got[0]!.time, T0, 'the first recording is kept');
  // Deleting by hand makes room and recording resumes.
  const n = await store.deleteBefore('c', got[got.length - 1]!.time);
  t.ok(n > 0, 'manual deletion');
  await record(store, clock, 'c', 2000, 2100);
  t.match(alarms[alarms.length - 1], { kind: 'full', active: false }, 'alarm cleared when recording again');
  await store.stop();
});

t.test('locked ranges survive; when everything left is locked an alarm replaces deletion', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], { clock, format: small });
  const alarms = captureEvents(bus, 'storageAlarm');
  const lockEvents = captureEvents(bus, 'storageLock');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const sent: Frame[] = [];
  await record(store, clock, 'c', 0, 300, sent);
  const lock = store.lock({ channel: 'c', start: sent[10]!.time, end: sent[20]!.time, reason: 'alarm input 1' });
  t.match(lockEvents, [{ action: 'added', id: lock.id, reason: 'alarm input 1' }], 'lock event');
  await record(store, clock, 'c', 300, 2000, sent);
  const got = await readAll(store, 'c', 'main', sent[10]!.time, sent[20]!.time);
  t.same(got.map((f) => f.time), sent.slice(0, 21).map((f) => f.time).filter((x) => x >= got[0]!.time), 'locked range kept');
  t.ok(got[0]!.time <= sent[10]!.time, 'from the keyframe before the lock start');
  t.ok((await readAll(store, 'c', 'main', sent[1000]!.time, sent[1000]!.time)).length > 0, 'recording went on around it');
  t.same(store.timeline('c', 'main', T0, T0 + 3600e6).locks.map((l) => l.id), [lock.id], 'timeline shows the lock mark');

  // Lock everything: the store must not delete, it raises an alarm and drops new frames.
  const all = store.lock({ channel: 'c', start: 0, end: Number.MAX_SAFE_INTEGER, reason: 'by hand' });
  const before = store.blocks().map((b) => `${b.block}:${b.generation}`);
  await record(store, clock, 'c', 2000, 2600);
  t.match(alarms.find((a) => a.kind === 'all-locked'), { active: true, channel: 'c' }, 'all-locked alarm');
  t.same(store.blocks().map((b) => `${b.block}:${b.generation}`), before, 'no block reused: every locked recording untouched');
  t.ok(store.writerStats()['c/main']!.dropped > 0, 'new frames dropped, not old ones deleted');
  t.ok(store.unlock(all.id), 'unlock');
  await record(store, clock, 'c', 2600, 2700);
  t.match(alarms[alarms.length - 1], { kind: 'all-locked', active: false }, 'alarm cleared');
  t.match(lockEvents[lockEvents.length - 1], { action: 'removed', id: all.id });
  await store.stop();

  // Locks are on disk: a restart keeps them.
  const again = storeWith([d.disks[0]!.path], { clock });
  await again.store.start();
  t.same(again.store.locks().map((l) => l.id), [lock.id], 'locks survive a restart');
  await again.store.stop();
});

t.test('a lock with an expiry lapses; max age deletes old blocks', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], {
    clock, format: small, sweepIntervalMs: 60_000, retention: { channels: { c: { maxAgeMs: 3600_000 } } },
  });
  const lockEvents = captureEvents(bus, 'storageLock');
  const deletions = captureEvents(bus, 'storageDeletion');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  await record(store, clock, 'c', 0, 300);
  store.lock({ channel: 'c', start: T0, end: T0 + 1e6, reason: 'motion', expiresMs: NOW + 2 * 3600_000 });
  await store.closeStream('c', 'main');
  await clock.advance(3600_000 + 120_000);
  t.ok(deletions.length > 0 && deletions.every((e) => e.reason === 'max-age'), 'max-age deletions');
  t.ok(store.blocks().length === 1 && store.blocks()[0]!.start === T0, 'only the locked block is left');
  await clock.advance(3600_000);
  t.match(lockEvents[lockEvents.length - 1], { action: 'expired' }, 'lock expired');
  t.same(store.blocks(), [], 'then it went too');
  await store.stop();
});

t.test('quota and disk groups', async (t) => {
  const d = makeDisks(2, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store } = storeWith([], {
    clock, format: small,
    disks: [{ name: 'a', path: d.disks[0]!.path, group: 'g1' }, { name: 'b', path: d.disks[1]!.path, group: 'g2' }],
    retention: { channels: { big: { quota: 0.25 }, grouped: { group: 'g2' } } },
  });
  await store.start();
  store.setStreamInfo('big', 'main', H264);
  store.setStreamInfo('other', 'main', H264);
  store.setStreamInfo('grouped', 'main', H264);
  await record(store, clock, 'big', 0, 3000);
  await record(store, clock, 'other', 0, 300);
  await record(store, clock, 'grouped', 0, 300);
  const blocks = store.blocks();
  t.ok(blocks.filter((b) => b.channel === 'big').length <= 4, 'big holds at most 25% of 16 blocks');
  t.ok(blocks.filter((b) => b.channel === 'grouped').every((b) => b.disk === 'b'), 'grouped channel only on its group');
  t.ok(blocks.some((b) => b.channel === 'other'), 'other channel got blocks');
  await store.stop();
});

t.test('an alarm locks the range around it on the channels it is bound to', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], {
    clock, format: small,
    alarmLocks: { channels: (a) => (a.input === 'door' ? ['c', 'd'] : []), beforeMs: 10_000, afterMs: 30_000, keepMs: 86_400_000 },
  });
  const lockEvents = captureEvents(bus, 'storageLock');
  await store.start();
  bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: NOW + 60_000 });
  bus.emit('alarm', { source: 'gpio', input: 'door', active: false, at: NOW + 61_000 });
  bus.emit('alarm', { source: 'gpio', input: 'window', active: true, at: NOW + 62_000 });
  t.same(store.locks().map((l) => [l.channel, l.start, l.end, l.reason, l.expiresMs]), [
    ['c', T0 + 50_000_000, T0 + 90_000_000, 'alarm gpio/door', NOW + 60_000 + 86_400_000],
    ['d', T0 + 50_000_000, T0 + 90_000_000, 'alarm gpio/door', NOW + 60_000 + 86_400_000],
  ]);
  t.equal(lockEvents.length, 2, 'a lock event each');
  await store.stop();
  bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: NOW + 70_000 });
  t.equal(lockEvents.length, 2, 'no locking after stop');
});

t.test('retention changed while running: a shorter max age deletes at once, a quota applies to the next block', async (t) => {
  const d = makeDisks(1, 16);
  t.teardown(d.cleanup);
  const clock = new ManualClock(NOW);
  const { store, bus } = storeWith([d.disks[0]!.path], { clock, format: small, sweepIntervalMs: 3600_000 });
  const deletions = captureEvents(bus, 'storageDeletion');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  store.setStreamInfo('k', 'main', H264);
  await record(store, clock, 'c', 0, 300);
  await store.closeStream('c', 'main');
  await record(store, clock, 'k', 0, 100);
  await store.closeStream('k', 'main');
  await clock.advance(2 * 3600_000);
  t.equal(deletions.length, 0, 'no max age: nothing deleted');
  const kept = store.blocks().filter((b) => b.channel === 'k').length;
  store.setRetention({ channels: { c: { maxAgeMs: 3600_000 } } });
  await clock.advance(0);
  t.ok(deletions.length > 0 && deletions.every((e) => e.reason === 'max-age' && e.channel === 'c'), `a one-hour max age deleted c's ${deletions.length} old blocks without waiting for the hourly sweep`);
  t.equal(store.blocks().filter((b) => b.channel === 'c').length, 0, 'none of c is left');
  t.equal(store.blocks().filter((b) => b.channel === 'k').length, kept, 'k, with no max age, keeps all of its recording');
  await store.stop();
});
