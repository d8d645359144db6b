// Kernel RS-485 mode: include/uapi/linux/serial.h (struct serial_rs485) and
// Documentation/driver-api/serial/serial-rs485.rst. The UART driver itself
// drives RTS as the transceiver's driver-enable, so no user-space timing.
import { O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDWR, SysError, close, ioctlBuf, open } from '../libc/index.js';

// asm-generic/ioctls.h: legacy numbers, not _IOC-encoded (same on x86, arm, arm64).
export const TIOCGRS485 = 0x542e;
export const TIOCSRS485 = 0x542f;

export const SER_RS485_ENABLED = 1 << 0;
export const SER_RS485_RTS_ON_SEND = 1 << 1;
export const SER_RS485_RTS_AFTER_SEND = 1 << 2;
export const SER_RS485_RX_DURING_TX = 1 << 4;

/** sizeof(struct serial_rs485): flags, two delays, then 20 bytes of union/padding. */
export const SERIAL_RS485_SIZE = 32;

export interface Rs485Options {
  /** RTS level while sending (default true: most transceivers' DE is active high). */
  rtsOnSend?: boolean;
  /** RTS level after sending (default false). */
  rtsAfterSend?: boolean;
  /** Keep the receiver on while transmitting (default false: no echo of our own frames). */
  rxDuringTx?: boolean;
  /** Milliseconds between raising RTS and the first bit (default 0). */
  delayRtsBeforeSendMs?: number;
  /** Milliseconds between the last bit and dropping RTS (default 0). */
  delayRtsAfterSendMs?: number;
}

export interface Rs485Config extends Required<Rs485Options> {
  enabled: boolean;
}

function u32(label: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`RS-485 ${label} must be an integer 0..2^32-1, got ${value}`);
  }
  return value;
}

/** The 32 bytes of struct serial_rs485 for `options` (native byte order, as the kernel reads it). */
export function encodeRs485(options: Rs485Options & { enabled?: boolean } = {}): Buffer {
  const buf = Buffer.alloc(SERIAL_RS485_SIZE);
  let flags = options.enabled === false ? 0 : SER_RS485_ENABLED;
  if (options.rtsOnSend ?? true) flags |= SER_RS485_RTS_ON_SEND;
  if (options.rtsAfterSend ?? false) flags |= SER_RS485_RTS_AFTER_SEND;
  if (options.rxDuringTx ?? false) flags |= SER_RS485_RX_DURING_TX;
  // The kernel ABI is host-endian; every target of this firmware is little-endian.
  buf.writeUInt32LE(flags, 0);
  buf.writeUInt32LE(u32('delay before send', options.delayRtsBeforeSendMs ?? 0), 4);
  buf.writeUInt32LE(u32('delay after send', options.delayRtsAfterSendMs ?? 0), 8);
  return buf;
}

export function decodeRs485(buf: Uint8Array): Rs485Config {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = view.readUInt32LE(0);
  return {
    enabled: (flags & SER_RS485_ENABLED) !== 0,
    rtsOnSend: (flags & SER_RS485_RTS_ON_SEND) !== 0,
    rtsAfterSend: (flags & SER_RS485_RTS_AFTER_SEND) !== 0,
    rxDuringTx: (flags & SER_RS485_RX_DURING_TX) !== 0,
    delayRtsBeforeSendMs: view.readUInt32LE(4),
    delayRtsAfterSendMs: view.readUInt32LE(8),
  };
}

/**
 * TIOCSRS485 on an open tty. Returns what the driver accepted (it rewrites the
 * struct with the delays and flags it supports). Throws SysError: ENOTTY on a
 * pty or a UART driver without RS-485 support.
 */
export function setRs485(fd: number, options: Rs485Options & { enabled?: boolean }, path?: string): Rs485Config {
  const buf = encodeRs485(options);
  ioctlBuf(fd, TIOCSRS485, buf, { path, name: 'TIOCSRS485' });
  return decodeRs485(buf);
}

/** TIOCGRS485: the tty's current RS-485 configuration. */
export function getRs485(fd: number, path?: string): Rs485Config {
  const buf = Buffer.alloc(SERIAL_RS485_SIZE);
  ioctlBuf(fd, TIOCGRS485, buf, { path, name: 'TIOCGRS485' });
  return decodeRs485(buf);
}

/**
 * Same as setRs485, on a tty given by path: for when the descriptor of an
 * already-open port is not reachable. The setting belongs to the tty, not to
 * the descriptor, so it survives this close and applies to other opens.
 */
export function setRs485OnPath(path: string, options: Rs485Options & { enabled?: boolean }): Rs485Config {
  // O_NOCTTY: never become the controlling terminal; O_NONBLOCK: don't wait for carrier.
  const fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  try {
    return setRs485(fd, options, path);
  } finally {
    close(fd, { path });
  }
}

export { SysError };
