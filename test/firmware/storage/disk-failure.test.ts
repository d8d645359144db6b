/**
 * A disk that turns read-only or starts failing writes in the middle of a
 * recording: the store marks it, raises diskState, and keeps recording on the
 * other disk without losing a frame it accepted. Needs ext4 on loop devices.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame } from '../../../firmware/media/types.js';
import { H264, captureEvents, frame, loopUnavailable, makeDisks, readAll, storeWith } from './helpers.js';

// Real disks on a shared machine: fdatasync can be slow, so allow more than the runner's default.
t.setTimeout(300_000);

const T0 = Date.UTC(2026, 0, 1) * 1000;
const skip = loopUnavailable();

async function record(store: ReturnType<typeof storeWith>['store'], from: number, to: number, sent: Frame[]): Promise<void> {
  for (let i = from; i < to; i++) {
    const f = frame('c', i, T0, { size: 3000 });
    sent.push(f);
    store.append('c', 'main', f);
    if (i % 50 === 49) await store.flush();
  }
  await store.flush();
}

t.test('a disk that turns read-only mid-recording', { skip }, async (t) => {
  const d = makeDisks(2, 32, 'rodisk', 'errors=remount-ro');
  t.teardown(d.cleanup);
  t.comment('disks: ext4-loop; the fault is ext4 emergency read-only (sysfs trigger_fs_error)');
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 30));
  const { store, bus, log } = storeWith(d.disks.map((x) => x.path), { clock });
  const states = captureEvents(bus, 'diskState');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const sent: Frame[] = [];
  await record(store, 0, 400, sent);
  t.ok(store.blocks().some((b) => b.disk === 'd0'), 'disk 0 was in use');

  writeFileSync(`/sys/fs/ext4/${basename(d.disks[0]!.device!)}/trigger_fs_error`, 'storage test');
  await record(store, 400, 1200, sent);

  const ev = states.find((s) => s.disk === 'd0' && s.state === 'read-only');
  t.ok(ev, 'diskState event: d0 read-only');
  t.match(ev?.detail, /EROFS/, 'the event says why');
  t.equal(ev?.previous, 'ok');
  t.ok(log.ring.tail(200, 'error').some((r) => r.msg === 'disk d0 is read-only'), 'logged');
  const got = await readAll(store, 'c', 'main');
  t.equal(got.length, sent.length, 'no accepted frame lost');
  t.ok(got.every((f, i) => Buffer.compare(f.data, sent[i]!.data) === 0), 'all bit-exact (old ones still read from the read-only disk)');
  const newest = store.blocks().filter((b) => b.start > sent[450]!.time);
  t.ok(newest.length > 0 && newest.every((b) => b.disk === 'd1'), 'recording continued on d1 only');
  await store.stop();

  const again = storeWith(d.disks.map((x) => x.path), { clock });
  await again.store.start();
  t.equal(again.store.disks()[0]!.state, 'read-only', 'after restart the disk is read-only, still readable');
  t.equal((await readAll(again.store, 'c', 'main')).length, sent.length);
  await again.store.stop();
});

t.test('a disk whose writes fail with EIO mid-recording', { skip }, async (t) => {
  const d = makeDisks(2, 32, 'eiodisk');
  t.teardown(d.cleanup);
  t.comment('disks: ext4-loop; the fault is the backing image shrinking under the mounted file system');
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 30));
  const { store, bus } = storeWith(d.disks.map((x) => x.path), { clock });
  const states = captureEvents(bus, 'diskState');
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const sent: Frame[] = [];
  await record(store, 0, 200, sent);
  // Everything past 2 MiB of the device now fails: that is where the block files live.
  execFileSync('truncate', ['-s', '2M', d.disks[0]!.image!]);
  execFileSync('losetup', ['-c', d.disks[0]!.device!]);
  await record(store, 200, 1000, sent);
  const ev = states.find((s) => s.disk === 'd0' && s.state === 'failed');
  t.ok(ev, 'diskState event: d0 failed');
  t.match(ev?.detail, /EIO/);
  const got = await readAll(store, 'c', 'main', sent[200]!.time);
  const after = got.filter((f) => f.time >= sent[200]!.time);
  t.equal(after.length, 800, 'every frame accepted after the failure is recorded');
  t.ok(after.every((f, i) => Buffer.compare(f.data, sent[200 + i]!.data) === 0), 'bit-exact');
  t.ok(store.blocks().filter((b) => b.start >= sent[300]!.time).every((b) => b.disk === 'd1'), 'on the good disk');
  await store.stop();
});
