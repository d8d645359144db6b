import { lastError, type SysContext } from './errors.js';
import { AF_UNIX, MSG_NOSIGNAL } from './constants.js';
import type { Bytes } from './io.js';
import { libc } from './load.js';

const SUN_PATH_MAX = 108;
const SUN_PATH_OFFSET = 2; // after sa_family_t sun_family

/** A struct sockaddr_un ready for sendto(), with its significant length. */
export interface UnixAddress {
  /** As given: a filesystem path, or '@name' for the abstract namespace. */
  readonly path: string;
  readonly sockaddr: { sun_family: number; sun_path: Uint8Array };
  readonly length: number;
}

/**
 * Build a sockaddr_un. A leading '@' selects the Linux abstract namespace
 * (the convention of systemd and ss): the '@' becomes a NUL byte and the
 * name is not NUL-terminated, so the address length must be exact.
 */
export function unixAddress(path: string): UnixAddress {
  const abstract = path.startsWith('@');
  const name = Buffer.from(path);
  if (abstract) name[0] = 0;
  const used = abstract ? name.length : name.length + 1;
  if (name.length <= (abstract ? 1 : 0) || used > SUN_PATH_MAX) {
    throw new RangeError(`unix socket address must be 1..${SUN_PATH_MAX - 1} bytes: ${JSON.stringify(path)}`);
  }
  const sunPath = new Uint8Array(SUN_PATH_MAX);
  sunPath.set(name);
  return { path, sockaddr: { sun_family: AF_UNIX, sun_path: sunPath }, length: SUN_PATH_OFFSET + used };
}

/** socket(2). Returns the file descriptor. */
export function socket(domain: number, type: number, protocol = 0, context?: SysContext): number {
  const fd: number = libc().socket(domain, type, protocol);
  if (fd < 0) throw lastError('socket', context);
  return fd;
}

/**
 * sendto(2) to a unix address. MSG_NOSIGNAL by default: a vanished peer
 * must surface as EPIPE, not as a SIGPIPE that kills the firmware.
 */
export function sendto(fd: number, data: Bytes | string, to: UnixAddress, flags = MSG_NOSIGNAL): number {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const n = Number(libc().sendto(fd, bytes, bytes.byteLength, flags, to.sockaddr, to.length));
  if (n < 0) throw lastError('sendto', { path: to.path });
  return n;
}

/** setsockopt(2) with an int value (SOL_SOCKET options such as SO_RCVLOWAT). */
export function setsockoptInt(fd: number, level: number, name: number, value: number, context?: SysContext): void {
  const v = new Int32Array([value]);
  if (libc().setsockopt(fd, level, name, v, 4) !== 0) throw lastError('setsockopt', context);
}
