/**
 * The sim board's RS-485 line when more than one simulated device hangs on
 * it: a multi-drop bus, where every byte one drop sends is heard by every
 * other drop (never echoed to the sender), as on the twisted pair.
 *
 * A pty pair joins only two ends, so each drop is its own pty, linked by
 * socat to a unix socket this hub listens on:
 *
 *   socat pty,raw,echo=0,link=<drop> UNIX-CONNECT:<socket>
 *
 * The firmware opens its drop as a serial line and each device simulator
 * opens its own, exactly as with a plain pair.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface Rs485Hub {
  path: string;
  /** Drops connected now. */
  drops(): number;
  close(): Promise<void>;
}

export async function startRs485Hub(path: string): Promise<Rs485Hub> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`sim board: the RS-485 hub socket ${path} is longer than a unix socket path may be (${MAX_SOCKET_PATH} bytes); use a shorter --var`);
  }
  removeStaleSocket(path);
  const drops = new Set<Socket>();
  const server = createServer((drop) => {
    drops.add(drop);
    drop.on('data', (chunk) => {
      for (const other of drops) if (other !== drop) other.write(chunk);
    });
    drop.on('close', () => drops.delete(drop));
    drop.on('error', () => {}); // a drop whose socat was killed: 'close' follows
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    drops: () => drops.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const d of drops) d.destroy();
        server.close(() => resolve()); // also removes the socket file
      }),
  };
}

function removeStaleSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket()) throw new Error(`sim board: ${path} exists and is not a socket`);
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
