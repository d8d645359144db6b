import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { libc, libcLoaded, lastErrno } from './load.js';

/** Extra detail for error messages: which device, which ioctl. */
export interface SysContext {
  /** File, device or socket the call was about. */
  path?: string;
  /** Shown in parentheses after the syscall, e.g. an ioctl request name. */
  name?: string;
}

let names: Map<number, string> | undefined;

/** Linux errno number to its symbolic name ('ENOENT'); 'UNKNOWN' if not known. */
export function errnoName(errno: number): string {
  if (!names) {
    names = new Map();
    // First name wins, so aliases (EWOULDBLOCK, EOPNOTSUPP) map to EAGAIN, ENOTSUP.
    for (const [name, value] of Object.entries(constants.errno)) {
      if (!names.has(value)) names.set(value, name);
    }
  }
  return names.get(errno) ?? getSystemErrorMap().get(-errno)?.[0] ?? 'UNKNOWN';
}

function describe(errno: number): string {
  // glibc's wording ("Inappropriate ioctl for device") is what admins know from
  // shell tools; libuv's map is the fallback when libc is not loaded.
  if (libcLoaded()) {
    const text: unknown = libc().strerror(errno);
    if (typeof text === 'string' && text) return text;
  }
  return getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;
}

/** A failed system call, carrying errno both as number and as symbolic code. */
export class SysError extends Error {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  readonly path: string | undefined;

  constructor(syscall: string, errno: number, context: SysContext = {}) {
    const code = errnoName(errno);
    const what = context.name ? `${syscall}(${context.name})` : syscall;
    const where = context.path !== undefined ? ` on ${context.path}` : '';
    super(`${what}${where}: ${code} (${describe(errno)})`);
    this.name = 'SysError';
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.path = context.path;
  }
}

/** Build a SysError from the errno left by the native call that just failed. */
export function lastError(syscall: string, context?: SysContext): SysError {
  return new SysError(syscall, lastErrno(), context);
}
