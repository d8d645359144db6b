import { constants } from 'node:os';
import { koffi, SysError, type SysContext } from '../libc/index.js';

type Fn = (...args: any[]) => any;
interface FsFunctions {
  fallocate: Fn;
  posix_fallocate: Fn;
  fdatasync: Fn;
}

let fns: FsFunctions | undefined;

// Loaded on first call, like drivers/libc, so importing works without koffi.
function fs(): FsFunctions {
  if (fns) return fns;
  const lib = koffi().load('libc.so.6');
  fns = {
    // The *64 variants take a 64-bit off_t on 32-bit ARM; aliases on 64-bit.
    fallocate: lib.func('int fallocate64(int fd, int mode, int64_t offset, int64_t len)'),
    // Returns the error number instead of setting errno.
    posix_fallocate: lib.func('int posix_fallocate64(int fd, int64_t offset, int64_t len)'),
    fdatasync: lib.func('int fdatasync(int fd)'),
  };
  return fns;
}

const { EINTR, EOPNOTSUPP } = constants.errno;

/** Reserves [offset, offset+length) on disk; the file grows to cover it. */
export function fallocate(fd: number, offset: number, length: number, context?: SysContext): void {
  for (;;) {
    if (fs().fallocate(fd, 0, offset, length) === 0) return;
    const errno = koffi().errno();
    if (errno === EINTR) continue;
    if (errno !== EOPNOTSUPP) throw new SysError('fallocate', errno, context);
    break;
  }
  const err: number = fs().posix_fallocate(fd, offset, length);
  if (err !== 0) throw new SysError('posix_fallocate', err, context);
}

/** Flushes the file's data (and the metadata needed to read it) to the device. */
export function fdatasync(fd: number, context?: SysContext): void {
  for (;;) {
    if (fs().fdatasync(fd) === 0) return;
    const errno = koffi().errno();
    if (errno !== EINTR) throw new SysError('fdatasync', errno, context);
  }
}
