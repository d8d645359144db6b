import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IOR,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  SysError,
  close,
  errnoName,
  ioctl,
  ioctlBuf,
  ioctlIntRef,
  open,
  read,
  write,
} from '../../../drivers/libc/index.js';

const dir = mkdtempSync(join(tmpdir(), 'libc-io-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('open/write/close then open/read/close round-trips bytes', async (t) => {
  const path = join(dir, 'round-trip.bin');
  const wfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600);
  t.equal(write(wfd, 'hello '), 6);
  t.equal(write(wfd, Buffer.from([0x00, 0xff, 0x7f])), 3);
  close(wfd);

  t.same(readFileSync(path), Buffer.from([...Buffer.from('hello '), 0x00, 0xff, 0x7f]), 'file holds what was written');
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode argument reached open()');

  const rfd = open(path, O_RDONLY | O_CLOEXEC);
  const buf = Buffer.alloc(64);
  t.equal(read(rfd, buf.subarray(0, 6)), 6, 'read fills at most the given view');
  t.equal(buf.toString('latin1', 0, 6), 'hello ');
  t.equal(read(rfd, buf), 3);
  t.same([...buf.subarray(0, 3)], [0x00, 0xff, 0x7f]);
  t.equal(read(rfd, buf), 0, 'EOF reads 0');
  close(rfd);
});

t.test('opening a missing file throws SysError ENOENT naming the path', async (t) => {
  const path = join(dir, 'no', 'such', 'file');
  try {
    open(path, O_RDONLY);
    t.fail('open should have thrown');
  } catch (error) {
    t.ok(error instanceof SysError);
    const e = error as SysError;
    t.equal(e.code, 'ENOENT');
    t.equal(e.errno, 2);
    t.equal(e.syscall, 'open');
    t.equal(e.path, path);
    t.equal(e.message, `open on ${path}: ENOENT (No such file or directory)`);
  }
});

t.test('ioctl on a regular file gives ENOTTY with a readable message', async (t) => {
  const path = join(dir, 'plain.txt');
  writeFileSync(path, 'not a device');
  const fd = open(path, O_RDONLY);
  t.teardown(() => close(fd));

  const VIDIOC_QUERYCAP = IOR('V', 0, 104);
  t.throws(() => ioctlBuf(fd, VIDIOC_QUERYCAP, Buffer.alloc(104), { path, name: 'VIDIOC_QUERYCAP' }), {
    name: 'SysError',
    code: 'ENOTTY',
    syscall: 'ioctl',
    message: `ioctl(VIDIOC_QUERYCAP) on ${path}: ENOTTY (Inappropriate ioctl for device)`,
  });
  t.throws(() => ioctl(fd, 0x5409 /* TCSBRK */, 1), {
    code: 'ENOTTY',
    message: 'ioctl(0x5409): ENOTTY (Inappropriate ioctl for device)',
  }, 'int form, unnamed request shown in hex');
});

t.test('ioctl int out-parameter comes back from the kernel', async (t) => {
  const path = join(dir, 'twelve.txt');
  writeFileSync(path, '0123456789AB');
  const fd = open(path, O_RDONLY);
  t.teardown(() => close(fd));
  // FIONREAD (legacy number, not _IOC) reports the bytes left to read.
  const FIONREAD = 0x541b;
  t.equal(ioctlIntRef(fd, FIONREAD), 12);
  read(fd, Buffer.alloc(5));
  t.equal(ioctlIntRef(fd, FIONREAD, -1), 7);
  const cell = new Int32Array(1);
  t.equal(ioctlBuf(fd, FIONREAD, cell), 0);
  t.equal(cell[0], 7, 'buffer form writes in place');
});

t.test('closing a bad descriptor throws EBADF', async (t) => {
  t.throws(() => close(-1, { path: '/dev/nothing' }), {
    code: 'EBADF',
    message: 'close on /dev/nothing: EBADF (Bad file descriptor)',
  });
});

t.test('errno names prefer the canonical alias', async (t) => {
  t.equal(errnoName(11), 'EAGAIN');
  t.equal(errnoName(25), 'ENOTTY');
  t.equal(errnoName(121), 'EREMOTEIO');
  t.equal(errnoName(100000), 'UNKNOWN');
  const e = new SysError('read', 5, { path: '/dev/video0' });
  t.equal(e.message, 'read on /dev/video0: EIO (Input/output error)');
});
