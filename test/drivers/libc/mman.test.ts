import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAP_SHARED, O_RDONLY, PROT_READ, close, mapView, mmap, munmap, open } from '../../../drivers/libc/index.js';

const dir = mkdtempSync(join(tmpdir(), 'libc-mman-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a shared mapping shows the file bytes, live, through mapView', async (t) => {
  const path = join(dir, 'mapped.bin');
  const content = Buffer.from('frame buffer bytes \x00\x01\x02\xff');
  writeFileSync(path, content);

  const fd = open(path, O_RDONLY);
  const addr = mmap(content.length, PROT_READ, MAP_SHARED, fd, 0, { path });
  close(fd); // the mapping outlives the descriptor, as with V4L2 buffers
  t.type(addr, 'bigint');

  let view: Buffer | null = mapView(addr, content.length);
  t.same(Buffer.from(view), content, 'mapped bytes equal the file');

  // Same page cache, not a copy: a write through another descriptor shows up.
  const wfd = openSync(path, 'r+');
  writeSync(wfd, 'FRAME', 0, 'latin1');
  closeSync(wfd);
  t.equal(view.toString('latin1', 0, 5), 'FRAME');

  view = null;
  t.doesNotThrow(() => munmap(addr, content.length));
});

t.test('mmap and munmap failures are SysErrors', async (t) => {
  t.throws(() => mmap(4096, PROT_READ, MAP_SHARED, -1, 0, { path: '/dev/video9' }), {
    code: 'EBADF',
    message: 'mmap on /dev/video9: EBADF (Bad file descriptor)',
  });
  t.throws(() => munmap(1n, 4096), { code: 'EINVAL', syscall: 'munmap' }, 'unaligned address');
});
