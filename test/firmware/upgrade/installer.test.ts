// The installer with real bundles made by scripts/firmware-bundle.ts: what
// installs lands byte for byte in a new slot and becomes current; every kind
// of bad bundle is refused with its reason and leaves the disk as it was.
import t from 'tap';
import { readFileSync, readlinkSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { S_IFREG } from '../../../firmware/upgrade/archive.js';
import { UpgradeError } from '../../../firmware/upgrade/errors.js';
import { chunksOf, craftedBundle, diskState, makeTree, makeUpgrader, newKey, scriptBundle, tempDir, treeOf, upgradeRig } from './helpers.js';

t.test('a good bundle installs into its own slot, byte for byte, and becomes current; the one before stays for rollback', async (t) => {
  const { dir, key, up, tree, good: file } = await upgradeRig(t);

  const done = await up.upgrade(chunksOf(file, 1000));
  t.equal(done.version, '1.1.0');
  t.equal(done.previous, null, 'nothing was installed before');
  t.equal(readlinkSync(join(dir, 'root', 'current')), 'slots/1.1.0', 'current points at the new slot');
  const want = treeOf(tree);
  const got = treeOf(join(dir, 'root', 'slots', '1.1.0'));
  t.same([...got.keys()].sort(), [...want.keys()].sort(), 'the same files');
  for (const [path, [mode, bytes]] of want) {
    t.ok(got.get(path)![1].equals(bytes), `${path}: same bytes`);
    t.equal(got.get(path)![0], mode, `${path}: same mode`);
  }
  t.same(diskState(dir).filter((p) => p.startsWith('data/')), [], 'the staged upload is gone');

  for (const v of ['1.2.0', '1.3.0']) await up.upgrade(chunksOf(await scriptBundle({ tree: makeTree(join(dir, `tree-${v}`), v), key: key.file, out: join(dir, `${v}.bundle`) })));
  const s = await up.status();
  t.equal(s.current, '1.3.0');
  t.equal(s.previous, '1.2.0');
  t.same(s.slots, ['1.2.0', '1.3.0'], 'two slots are kept: the current and the previous; older ones go');

  t.same(await up.rollback(), { current: '1.2.0', previous: '1.3.0' }, 'rollback swaps current and previous');
  t.equal(readlinkSync(join(dir, 'root', 'current')), 'slots/1.2.0');
  t.same(await up.rollback(), { current: '1.3.0', previous: '1.2.0' }, 'and back again');
});

t.test('every bad bundle is refused with its reason; nothing changes on disk', async (t) => {
  const dir = tempDir(t);
  const key = await newKey(dir);
  const stranger = await newKey(dir, 'stranger.pem');
  const up = makeUpgrader(dir, [key.pub]);
  const good = await scriptBundle({ tree: makeTree(join(dir, 'tree-1.1.0'), '1.1.0'), key: key.file, out: join(dir, 'good.bundle') });
  await up.upgrade(chunksOf(good));
  const before = diskState(dir);
  const tree2 = makeTree(join(dir, 'tree-2.0.0'), '2.0.0');
  const bytes = readFileSync(await scriptBundle({ tree: tree2, key: key.file, out: join(dir, 'two.bundle') }));
  const headerEnd = bytes.indexOf(0x0a, bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1) + 1;
  const variant = (name: string, edit: (b: Buffer) => Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, edit(Buffer.from(bytes)));
    return f;
  };
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'x');
  const entry = (path: string, mode = S_IFREG | 0o644) => ({ path, mode, from: Buffer.from('boom') });
  const pkg = (v: string) => ({ path: 'package.json', mode: S_IFREG | 0o644, from: Buffer.from(JSON.stringify({ version: v })) });

  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['a bundle signed by a key the box does not trust', async () => up.upgrade(chunksOf(await scriptBundle({ tree: tree2, key: stranger.file, out: join(dir, 's.bundle') }))), /does not trust/],
    ['no trusted key configured', async () => makeUpgrader(dir, []).upgrade(chunksOf(join(dir, 'two.bundle'))), /no trusted firmware key/],
    ['a manifest changed after signing', async () => up.upgrade(chunksOf(variant('m.bundle', (b) => Buffer.from(b.toString('latin1').replace('"created":"2', '"created":"3'), 'latin1')))), /signature is wrong/],
    ['a signature changed', async () => up.upgrade(chunksOf(variant('sig.bundle', (b) => (b[headerEnd - 6] ^= 1, b)))), /signature is wrong|invalid/],
    ['a payload byte changed', async () => up.upgrade(chunksOf(variant('p.bundle', (b) => (b[headerEnd + ((b.length - headerEnd) >> 1)]! ^= 0x40, b)))), /altered/],
    ['a truncated file', async () => up.upgrade(chunksOf(variant('t.bundle', (b) => b.subarray(0, b.length - 100)))), /truncated/],
    ['a file cut inside its header', async () => up.upgrade(chunksOf(variant('th.bundle', (b) => b.subarray(0, 60)))), /truncated in its header/],
    ['bytes after the payload', async () => up.upgrade(chunksOf(variant('long.bundle', (b) => Buffer.concat([b, Buffer.from('more')])))), /longer than its manifest/],
    ['not a bundle at all', async () => up.upgrade(chunksOf(file)), /not a firmware bundle/],
    ['an empty upload', async () => up.upgrade((async function* () {})()), /empty/],
    ['a bundle for another board', async () => up.upgrade(chunksOf(await scriptBundle({ tree: tree2, key: key.file, out: join(dir, 'b.bundle'), boards: ['rpi-cm4io'] }))), /for rpi-cm4io, not for this board \(sim\)/],
    ['the running version again', async () => up.upgrade(chunksOf(await scriptBundle({ tree: makeTree(join(dir, 'tree-1.0.0'), '1.0.0'), key: key.file, out: join(dir, 'same.bundle') }))), /not newer than the running 1\.0\.0/],
    ['an older version', async () => up.upgrade(chunksOf(await scriptBundle({ tree: makeTree(join(dir, 'tree-0.9.0'), '0.9.0'), key: key.file, out: join(dir, 'old.bundle') }))), /not newer/],
    ['the installed version again, even allowed', async () => up.upgrade(chunksOf(good), { allowDowngrade: true }), /already the installed one/],
    ['an upload over the size limit', async () => makeUpgrader(dir, [key.pub], { maxBytes: 100_000 }).upgrade(chunksOf(join(dir, 'two.bundle'))), /over the 100000 bytes/],
    ['an absolute path', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('2.0.0'), entry('/etc/passwd')], key: key.file, out: join(dir, 'abs.bundle'), version: '2.0.0' }))), /absolute path/],
    ['a path with ..', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('2.0.0'), entry('dist/../../../escape')], key: key.file, out: join(dir, 'dots.bundle'), version: '2.0.0' }))), /leaving the slot/],
    ['a symlink', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('2.0.0'), entry('link', 0o120777)], key: key.file, out: join(dir, 'ln.bundle'), version: '2.0.0' }))), /not a regular file/],
    ['a device', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('2.0.0'), entry('sda', 0o060660)], key: key.file, out: join(dir, 'dev.bundle'), version: '2.0.0' }))), /not a regular file/],
    ['a path twice', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('2.0.0'), entry('a'), entry('a')], key: key.file, out: join(dir, 'twice.bundle'), version: '2.0.0' }))), /path twice/],
    ['no package.json', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [entry('a')], key: key.file, out: join(dir, 'nopkg.bundle'), version: '2.0.0' }))), /no package\.json/],
    ['a package.json of another version', async () => up.upgrade(chunksOf(await craftedBundle({ entries: [pkg('3.0.0')], key: key.file, out: join(dir, 'pkgv.bundle'), version: '2.0.0' }))), /says version 3\.0\.0, its manifest 2\.0\.0/],
  ];
  for (const [why, attempt, reason] of cases) {
    const err = await attempt().then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof UpgradeError, `${why}: refused`);
    t.match((err as Error).message, reason, `${why}: ${(err as Error).message}`);
    t.same(diskState(dir), before, `${why}: nothing changed on disk`);
  }
  t.equal((await up.status()).current, '1.1.0', 'the installed version is still current');

  const older = await up.upgrade(chunksOf(join(dir, 'old.bundle')), { allowDowngrade: true });
  t.equal(older.version, '0.9.0', 'an older version installs when the downgrade is explicit');
});

t.test('an install killed between unpacking and the switch leaves the old version current, and the next start cleans up', async (t) => {
  const dir = tempDir(t);
  const key = await newKey(dir);
  const up = makeUpgrader(dir, [key.pub]);
  await up.upgrade(chunksOf(await scriptBundle({ tree: makeTree(join(dir, 'tree-1.1.0'), '1.1.0'), key: key.file, out: join(dir, 'a.bundle') })));
  const next = await scriptBundle({ tree: makeTree(join(dir, 'tree-1.2.0'), '1.2.0'), key: key.file, out: join(dir, 'b.bundle') });

  const { spawnTs } = await import('../../helpers/ts-child.js');
  const child = spawnTs(join(import.meta.dirname, 'install-child.ts'), [JSON.stringify({ dir, pub: key.pub, bundle: next })]);
  const killed = await new Promise<boolean>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('SWITCHING')) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(true) : reject(new Error(`child exited ${code}: ${err}`))));
  });
  t.ok(killed, 'the installing process died at the switch');
  t.ok(existsSync(join(dir, 'root', 'slots', '1.2.0', 'package.json')), 'the new slot was complete on disk');
  t.equal(readlinkSync(join(dir, 'root', 'current')), 'slots/1.1.0', 'current still points at the old version');

  const removed = await up.recover();
  t.ok(removed.some((p) => p.endsWith(join('slots', '1.2.0'))), 'recovery removes the slot that never became current');
  t.same((await up.status()).slots, ['1.1.0']);
  const again = await up.upgrade(chunksOf(next));
  t.equal(again.version, '1.2.0', 'the same bundle installs afterwards');
});

t.test('recover removes a partial slot and half-made links, and nothing without a current slot', async (t) => {
  const dir = tempDir(t);
  const up = makeUpgrader(dir, []);
  mkdirSync(join(dir, 'root', 'slots', '0.5.0'), { recursive: true });
  mkdirSync(join(dir, 'root', 'slots', '0.6.0.partial'), { recursive: true });
  const removed = await up.recover();
  t.same(removed, [join(dir, 'root', 'slots', '0.6.0.partial')], 'only the partial slot goes while no slot is current');
  t.same((await up.status()).slots, ['0.5.0']);
  await t.rejects(up.rollback(), /no previous version/, 'rollback with nothing to go back to says so');
});
