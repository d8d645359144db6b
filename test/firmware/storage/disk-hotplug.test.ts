/**
 * Hot removal and insertion on ext4 loop disks while recording: a disk's file
 * system is lazily unmounted mid-recording (what a pulled disk looks like to
 * the store), the disk monitor marks it missing, recording goes on on the
 * other disk; mounting it again brings its recordings back; a disk of another
 * store put in the bay is reported foreign and left untouched.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame } from '../../../firmware/media/types.js';
import { formatDisk, HEADER_FILE, CATALOG_FILE } from '../../../firmware/storage/disk.js';
import { DiskMonitor } from '../../../firmware/storage/disk-monitor.js';
import { H264, captureEvents, frame, loopUnavailable, makeDisks, readAll, storeWith } from './helpers.js';

t.setTimeout(180_000);
const skip = loopUnavailable();
const T0 = Date.UTC(2026, 0, 1) * 1000;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

t.test('a disk unmounted mid-recording goes missing, comes back with its recordings; a foreign disk is left alone', { skip }, async (t) => {
  const d = makeDisks(2, 32, 'hotplug');
  t.teardown(d.cleanup);
  t.comment('disks: ext4-loop; removal is a lazy unmount of the mounted file system');
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 30));
  const { store, bus, log } = storeWith(d.disks.map((x) => x.path), { clock });
  const states = captureEvents(bus, 'diskState');
  await store.start();
  const monitor = new DiskMonitor({ store, log, clock, intervalMs: 1000 });
  await monitor.start();
  t.teardown(() => monitor.stop());
  store.setStreamInfo('c', 'main', H264);

  const sent: Frame[] = [];
  const rec = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const f = frame('c', i, T0, { size: 3000 });
      sent.push(f);
      store.append('c', 'main', f);
      if (i % 50 === 49) await store.flush();
    }
    await store.flush();
  };
  await rec(0, 400);
  const before = store.blocks();
  t.ok(before.some((b) => b.disk === 'd0') && before.some((b) => b.disk === 'd1'), 'both disks hold recordings');
  const onD1 = (await readAll(store, 'c', 'main')).filter((f) => before.some((b) => b.disk === 'd1' && f.time >= b.start && f.time <= b.end));

  const mnt0 = dirname(d.disks[0]!.path);
  sh('umount', ['-l', mnt0]);
  // The monitor's own timer notices it (the clock is manual: one interval).
  await clock.advance(1000);
  await t.resolveMatch(waitFor(() => store.disks()[0]!.state === 'missing'), true, 'd0 is missing after one monitor interval');
  const ev = states.find((s) => s.disk === 'd0' && s.state === 'missing');
  t.ok(ev, 'diskState event: d0 missing');
  t.equal(ev?.previous, 'ok');
  t.match(ev?.detail, /gone|unmounted/, 'the event says why');

  await rec(400, 1200);
  const after = await readAll(store, 'c', 'main', sent[400]!.time);
  t.equal(after.length, 800, 'every frame accepted after the removal is recorded');
  t.ok(after.every((f, i) => Buffer.compare(f.data, sent[400 + i]!.data) === 0), 'bit-exact');
  t.ok(store.blocks().every((b) => b.disk === 'd1'), 'only d1 is in the index while d0 is out');
  const stillOnD1 = await readAll(store, 'c', 'main', 0, sent[399]!.time);
  t.same(stillOnD1.map((f) => f.time), onD1.map((f) => f.time), 'what d1 held before the removal is all still there');

  // Put it back.
  sh('mount', [d.disks[0]!.device!, mnt0]);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok', 'd0 is back');
  t.ok(states.some((s) => s.disk === 'd0' && s.state === 'ok' && s.previous === 'missing'), 'diskState event: back to ok');
  const all = await readAll(store, 'c', 'main');
  t.equal(all.length, sent.length, 'its recordings are back in the index: every frame readable');
  t.ok(all.every((f, i) => Buffer.compare(f.data, sent[i]!.data) === 0), 'bit-exact, in order');
  await rec(1200, 1600);
  t.ok(store.blocks().some((b) => b.disk === 'd0' && b.start >= sent[1200]!.time), 'd0 takes new recordings again');

  // A disk of another store in the same bay.
  sh('umount', ['-l', mnt0]);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'missing');
  const img = join(dirname(mnt0), 'foreign.img');
  sh('truncate', ['-s', '16M', img]);
  sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  const dev = sh('losetup', ['-f', '--show', img]);
  t.teardown(() => {
    try {
      sh('umount', ['-l', mnt0]);
    } catch {
      // already gone
    }
    sh('losetup', ['-d', dev]);
    rmSync(img, { force: true });
  });
  sh('mount', [dev, mnt0]);
  mkdirSync(join(mnt0, 'dvr'));
  await formatDisk(join(mnt0, 'dvr'), { storeId: 'a'.repeat(32), blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 4, reserveBytes: 0 });
  const files = [HEADER_FILE, CATALOG_FILE, 'blocks/000000.blk'].map((f) => join(mnt0, 'dvr', f));
  const hashes = files.map(hash);
  await monitor.check();
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'foreign', 'the other store\'s disk is foreign');
  t.match(store.disks()[0]!.detail, /belongs to store a{32}/);
  await rec(1600, 1700);
  t.same(files.map(hash), hashes, 'and untouched while recording goes on');
  t.ok(store.blocks().filter((b) => b.start >= sent[1600]!.time).every((b) => b.disk === 'd1'));
  t.ok(log.ring.tail(100, 'error').some((r) => r.msg === 'disk d0 is foreign'), 'logged');
  await store.stop();
});

t.test('a deleted store directory, a replaced header and a monitor that stops cleanly', async (t) => {
  const d = makeDisks(1, 16, 'hotdir');
  t.teardown(d.cleanup);
  t.comment(`disks: ${d.kind}`);
  const { store, log } = storeWith(d.disks.map((x) => x.path));
  await store.start();
  const monitor = new DiskMonitor({ store, log, intervalMs: 10 });
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok', 'nothing to do on a healthy disk');
  const hdr = join(d.disks[0]!.path, HEADER_FILE);
  const saved = readFileSync(hdr);
  rmSync(hdr);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'missing', 'an unreadable header reads as a pulled disk');
  t.match(store.disks()[0]!.detail, /store header unreadable/);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'unformatted', 'the directory is there but holds no store: unformatted, and not formatted');
  writeFileSync(hdr, saved);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok', 'the header is back: ok again');
  // Another disk of the same store swapped in under the same path: its own disk id.
  const other = join(dirname(d.disks[0]!.path), 'other');
  const h2 = await formatDisk(other, { storeId: store.disks()[0]!.storeId!, blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 2, reserveBytes: 0 });
  writeFileSync(hdr, readFileSync(join(other, HEADER_FILE)));
  await monitor.check();
  t.match(store.disks()[0], { state: 'missing', detail: `another disk is in the bay (disk id ${h2.diskId})` });
  writeFileSync(hdr, saved);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok');
  // A garbled header (the store magic, then junk).
  writeFileSync(hdr, Buffer.concat([saved.subarray(0, 16), Buffer.alloc(saved.length - 16, 0x55)]));
  await monitor.check();
  t.match(store.disks()[0], { state: 'missing', detail: /store header unreadable/ });
  writeFileSync(hdr, saved);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok');
  // A monitor whose hook throws logs it and keeps going.
  const failing = new DiskMonitor({ store, log, onDetached: async () => Promise.reject(new Error('hook broke')) });
  rmSync(hdr);
  await failing.check();
  t.ok(log.ring.tail(50, 'error').some((r) => r.msg === 'checking disk d0 failed'), 'a failing look is logged, not thrown');
  writeFileSync(hdr, saved);
  await monitor.check();
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok');
  rmSync(d.disks[0]!.path, { recursive: true, force: true });
  await monitor.start();
  await t.resolveMatch(waitFor(() => store.disks()[0]!.state === 'missing'), true, 'the monitor\'s timer saw the directory go');
  await monitor.stop();
  await store.stop();
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
