import { lastError, type SysContext } from './errors.js';
import { koffi, libc } from './load.js';

/** A native address; koffi 3 represents pointers as BigInt. */
export type Pointer = bigint;

// (void *)-1, which koffi returns as an unsigned BigInt of the pointer width.
function mapFailed(): Pointer {
  return (1n << BigInt(8 * koffi().sizeof('void *'))) - 1n;
}

/** mmap(2) with a kernel-chosen address. Returns the mapping's address. */
export function mmap(
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: number | bigint = 0,
  context?: SysContext,
): Pointer {
  const addr: Pointer | null = libc().mmap(null, length, prot, flags, fd, offset);
  if (addr === null || addr === mapFailed()) throw lastError('mmap', context);
  return addr;
}

/** munmap(2). Any view made with mapView() over this range must not be touched afterwards. */
export function munmap(addr: Pointer, length: number, context?: SysContext): void {
  if (libc().munmap(addr, length) < 0) throw lastError('munmap', context);
}

/**
 * A Buffer aliasing native memory (no copy). It does not keep the mapping
 * alive: reading it after munmap() crashes the process, so drop it first.
 */
export function mapView(addr: Pointer, length: number): Buffer {
  return Buffer.from(koffi().view(addr, length), 0, length);
}
