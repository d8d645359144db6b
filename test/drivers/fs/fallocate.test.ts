import t from 'tap';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SysError } from '../../../drivers/libc/index.js';
import { fallocate, fdatasync } from '../../../drivers/fs/index.js';
import { makeDisks } from '../../firmware/storage/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-fallocate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('fallocate reserves real blocks: the file is the asked size and not sparse', async (t) => {
  const p = join(dir, 'f');
  const fd = openSync(p, 'w');
  fallocate(fd, 0, 4 * 1024 * 1024, { path: p });
  fdatasync(fd, { path: p });
  closeSync(fd);
  const s = statSync(p);
  t.equal(s.size, 4 * 1024 * 1024);
  t.ok(s.blocks * 512 >= s.size, `${s.blocks * 512} bytes allocated`);
  t.ok(readFileSync(p).every((b) => b === 0), 'reads as zeros');
});

function caught(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('errors are SysErrors naming the call and path', async (t) => {
  const e = caught(() => fallocate(-1, 0, 10, { path: 'nowhere' }));
  t.ok(e instanceof SysError);
  t.equal((e as SysError).code, 'EBADF');
  t.match((e as SysError).message, /^fallocate on nowhere: EBADF/);
  const f = caught(() => fdatasync(-1));
  t.ok(f instanceof SysError && f.code === 'EBADF' && f.syscall === 'fdatasync');
});

t.test('ENOSPC when the file system is too small', async (t) => {
  const d = makeDisks(1, 8, 'fs-nospc');
  t.teardown(d.cleanup);
  t.comment(`file system: ${d.kind}`);
  if (d.kind !== 'ext4-loop') return t.pass('skipped: no loop devices here');
  const p = join(d.disks[0]!.path, 'big');
  const fd = openSync(p, 'w');
  const e = caught(() => fallocate(fd, 0, 64 * 1024 * 1024, { path: p }));
  t.equal((e as SysError).code, 'ENOSPC', 'ENOSPC');
  closeSync(fd);
});
