// Snapshots on the system disk, as an installer finds them: one JPEG file per
// picture under the channel's directory, named by its UTC time, the oldest
// deleted beyond the per-channel count, nothing written for a bad channel id
// or a failed capture. The source here is a fake returning fixed bytes: the
// store's job is the files, not the picture (fetching a real JPEG is
// http-jpeg.test.ts's). The directory is a real one, the clock a manual one.
import t, { type Test } from 'tap';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { SnapshotStore, type SnapshotSource } from '../../../firmware/snapshots/store.js';

// File modes are checked exactly: fix the umask to the usual one.
process.umask(0o022);

const AT = Date.parse('2026-12-04T10:11:12.345Z');

/** Fixed JPEG-looking bytes, different per channel and per call. */
function fakeJpeg(channel: string, n: number): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`${channel} picture ${n} `.repeat(20)), Buffer.from([0xff, 0xd9])]);
}

interface Rig {
  root: string;
  dir: string;
  clock: ManualClock;
  store: SnapshotStore;
  records: LogRecord[];
  /** What the source returned, in order. */
  served: Buffer[];
  /** Channels the source was asked for. */
  asked: string[];
}

function rig(t: Test, opts: { keepPerChannel?: number; source?: SnapshotSource } = {}): Rig {
  const root = t.testdir({});
  const dir = join(root, 'snapshots');
  const clock = new ManualClock(AT);
  const records: LogRecord[] = [];
  const log = new Logger('test', { level: 'debug', sink: (r) => void records.push(r) });
  const served: Buffer[] = [];
  const asked: string[] = [];
  const source: SnapshotSource =
    opts.source ??
    (async (channel) => {
      asked.push(channel);
      const b = fakeJpeg(channel, served.length);
      served.push(b);
      return b;
    });
  const store = new SnapshotStore({ dir, clock, log, source, ...(opts.keepPerChannel !== undefined ? { keepPerChannel: opts.keepPerChannel } : {}) });
  return { root, dir, clock, store, records, served, asked };
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

t.test('take() writes the picture to <dir>/<channel>/<UTC time>.jpg', async (t) => {
  const r = rig(t);
  const snap = await r.store.take('cam1');
  const name = '20261204T101112-345Z.jpg';
  const file = join(r.dir, 'cam1', name);
  t.equal(snap.file, file, 'the file is named by the clock time');
  t.equal(snap.channel, 'cam1');
  t.equal(snap.at, AT, 'taken at the clock time');
  t.equal(r.served.length, 1, 'the source was asked once');
  t.same(r.asked, ['cam1'], 'for this channel');
  t.equal(snap.bytes, r.served[0]!.length, 'the size is the picture size');
  const onDisk = await readFile(file);
  t.ok(onDisk.equals(r.served[0]!), 'the bytes on disk are the source bytes');
  t.equal((await stat(file)).mode & 0o777, 0o640, 'file mode 0640');
  t.equal((await stat(join(r.dir, 'cam1'))).mode & 0o777, 0o750, 'channel directory mode 0750');
  t.same(await readdir(join(r.dir, 'cam1')), [name], 'that file and nothing else (no temp file left)');
  t.same(await r.store.list('cam1'), [name], 'list() names it');
  t.match(
    r.records.filter((x) => x.msg === 'snapshot taken'),
    [{ level: 'info', channel: 'cam1', file: name, bytes: snap.bytes }],
    'logged once',
  );
});

t.test('only the newest keepPerChannel pictures remain, listed newest first', async (t) => {
  const r = rig(t, { keepPerChannel: 3 });
  const files: string[] = [];
  for (let i = 0; i < 5; i++) {
    files.push((await r.store.take('cam2')).file);
    await r.clock.advance(1000);
  }
  const names = ['20261204T101112-345Z.jpg', '20261204T101113-345Z.jpg', '20261204T101114-345Z.jpg', '20261204T101115-345Z.jpg', '20261204T101116-345Z.jpg'];
  t.same(
    files,
    names.map((n) => join(r.dir, 'cam2', n)),
    'one file a second',
  );
  t.same(await r.store.list('cam2'), [names[4], names[3], names[2]], 'the three newest, newest first');
  t.same((await readdir(join(r.dir, 'cam2'))).sort(), [names[2], names[3], names[4]], 'the two oldest are gone from the disk');
  for (let i = 2; i < 5; i++) t.ok((await readFile(files[i]!)).equals(r.served[i]!), `picture ${i} holds its own bytes`);
  // Another channel's pictures are counted on their own.
  await r.store.take('cam3');
  t.same(await r.store.list('cam3'), ['20261204T101117-345Z.jpg'], 'cam3 has its picture');
  t.equal((await r.store.list('cam2')).length, 3, 'cam2 untouched');
});

t.test('a channel id that is not a safe directory name is refused', async (t) => {
  const r = rig(t);
  for (const id of ['../etc', 'A B', '..', '', 'cam1/../../x', '/abs', 'Cam1', '.hidden', 'x'.repeat(33)]) {
    await t.rejects(r.store.take(id), { message: /bad channel id/ }, `take(${JSON.stringify(id)}) refused`);
    await t.rejects(r.store.list(id), { message: /bad channel id/ }, `list(${JSON.stringify(id)}) refused`);
  }
  t.same(r.asked, [], 'the source was never asked');
  t.same(await readdir(r.root), [], 'nothing written, inside the dir or next to it');
  t.notOk(await exists(join(r.root, 'etc')), 'no <dir>/../etc');
  // The same store still works for a good id.
  await r.store.take('a_b-1');
  t.same(await readdir(r.root), ['snapshots'], 'only the snapshot dir once a good id is taken');
});

t.test('a source that fails leaves no file behind', async (t) => {
  let fail = false;
  let n = 0;
  const r = rig(t, {
    source: async (channel) => {
      if (fail) throw new Error('capture failed: no signal');
      return fakeJpeg(channel, n++);
    },
  });
  // A fresh channel: no directory, no file.
  fail = true;
  await t.rejects(r.store.take('cam4'), { message: 'capture failed: no signal' }, 'the source error comes through');
  t.same(await r.store.list('cam4'), [], 'nothing listed');
  t.notOk(await exists(join(r.dir, 'cam4')), 'no channel directory made');
  // A channel that has a picture: it stays the only file.
  fail = false;
  const first = await r.store.take('cam4');
  await r.clock.advance(1000);
  fail = true;
  await t.rejects(r.store.take('cam4'), { message: 'capture failed: no signal' }, 'the source error comes through');
  t.same(await readdir(join(r.dir, 'cam4')), ['20261204T101112-345Z.jpg'], 'only the earlier picture, no partial or temp file');
  t.equal(first.file, join(r.dir, 'cam4', '20261204T101112-345Z.jpg'));
  t.same(await r.store.list('cam4'), ['20261204T101112-345Z.jpg'], 'list() unchanged');
});

t.test('list() of a channel with no pictures is empty', async (t) => {
  const r = rig(t);
  t.same(await r.store.list('cam9'), [], 'before anything was taken');
  await r.store.take('cam1');
  t.same(await r.store.list('cam9'), [], 'another channel having pictures changes nothing');
});
