// sd_notify(3) without libsystemd: one datagram per call to $NOTIFY_SOCKET.
// Node's dgram module has no AF_UNIX support, hence the raw socket calls.
import { constants } from 'node:os';
import {
  AF_UNIX,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SysError,
  close,
  sendto,
  socket,
  unixAddress,
} from '../libc/index.js';

export type Env = Record<string, string | undefined>;

/**
 * Send `state` (e.g. 'READY=1', newline-separated assignments) to the service
 * manager. Returns false when not started by systemd with a notify socket,
 * true once the datagram is sent; throws SysError when sending fails.
 */
export function sdNotify(state: string, env: Env = process.env): boolean {
  const target = env.NOTIFY_SOCKET;
  if (!target) return false;
  // systemd also accepts 'vsock:' addresses (for VMs); an appliance never gets one.
  if (!target.startsWith('/') && !target.startsWith('@')) {
    throw new SysError('sd_notify', constants.errno.EAFNOSUPPORT, { path: target });
  }
  const address = unixAddress(target);
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, { path: target });
  try {
    sendto(fd, state, address);
  } finally {
    close(fd);
  }
  return true;
}
