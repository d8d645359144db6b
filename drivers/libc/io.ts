import { constants } from 'node:os';
import { lastError, type SysContext } from './errors.js';
import { lastErrno, libc } from './load.js';

/** Memory koffi can hand to C as a pointer without copying. */
export type Bytes = NodeJS.TypedArray | DataView;

const { EINTR } = constants.errno;

// libuv installs its signal handlers with SA_RESTART, but a signal can still
// interrupt a blocking device call (and SIGCHLD from any child process does).
// Retrying is what every C caller does by hand.
function retry(call: () => number): number {
  for (;;) {
    const result = call();
    if (result >= 0 || lastErrno() !== EINTR) return result;
  }
}

function hex(request: number): string {
  return `0x${(request >>> 0).toString(16)}`;
}

/** open(2); mode only matters with O_CREAT. Returns the file descriptor. */
export function open(path: string, flags: number, mode = 0o666): number {
  const fd: number = retry(() => libc().open(path, flags, 'uint32_t', mode));
  if (fd < 0) throw lastError('open', { path });
  return fd;
}

/** close(2). Never retried: on Linux the descriptor is gone even after EINTR. */
export function close(fd: number, context?: SysContext): void {
  if (libc().close(fd) < 0) throw lastError('close', context);
}

/** read(2) into `buffer` (up to its byteLength). Returns bytes read, 0 at EOF. */
export function read(fd: number, buffer: Bytes, context?: SysContext): number {
  const n = retry(() => Number(libc().read(fd, buffer, buffer.byteLength)));
  if (n < 0) throw lastError('read', context);
  return n;
}

/** write(2) of a buffer or UTF-8 string. Returns bytes written (may be short). */
export function write(fd: number, data: Bytes | string, context?: SysContext): number {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const n = retry(() => Number(libc().write(fd, bytes, bytes.byteLength)));
  if (n < 0) throw lastError('write', context);
  return n;
}

/** ioctl(2) whose argument is an integer passed by value. */
export function ioctl(fd: number, request: number, arg = 0, context: SysContext = {}): number {
  // intptr_t because the kernel reads a full unsigned long; a plain int would
  // leave the upper half of the register undefined on 64-bit ABIs.
  const result = retry(() => libc().ioctl(fd, request, 'intptr_t', arg));
  if (result < 0) throw lastError('ioctl', { path: context.path, name: context.name ?? hex(request) });
  return result;
}

/** ioctl(2) whose argument points at `buffer`; the kernel reads/writes it in place. */
export function ioctlBuf(fd: number, request: number, buffer: Bytes | null, context: SysContext = {}): number {
  const result = retry(() => libc().ioctl(fd, request, 'void *', buffer));
  if (result < 0) throw lastError('ioctl', { path: context.path, name: context.name ?? hex(request) });
  return result;
}

// Reused: handing a fresh small typed array to native code makes V8 move its
// storage off-heap, which costs more than the ioctl itself. Safe because the
// call is synchronous and nothing else runs while it is in flight.
const intCell = new Int32Array(1);

/** ioctl(2) on an `int *` in/out argument; returns the int after the call. */
export function ioctlIntRef(fd: number, request: number, value = 0, context: SysContext = {}): number {
  intCell[0] = value;
  ioctlBuf(fd, request, intCell, context);
  return intCell[0];
}
