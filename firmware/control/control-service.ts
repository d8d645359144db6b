import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { MAX_REQUEST_BYTES, type CommandRequest, type ControlReply, type ControlRequest } from './protocol.js';

export type ControlHandler = (req: ControlRequest | CommandRequest) => Promise<unknown>;

/** Serves the control protocol on a unix socket for the `dvr` command. */
export class ControlService implements Service {
  readonly name = 'control';
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly handler: ControlHandler,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await mkdir(dirname(this.socketPath), { recursive: true, mode: 0o700 });
    if (await isLive(this.socketPath)) throw new Error(`another firmware is already running (${this.socketPath} answers)`);
    await unlink(this.socketPath).catch(() => {});
    const server = createServer((s) => this.serve(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o600);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server?.listening) await new Promise<void>((r) => server.close(() => r()));
    await unlink(this.socketPath).catch(() => {});
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        this.reply(socket, { ok: false, error: 'request too large' });
        socket.end();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.dispatch(socket, line);
      }
    });
  }

  private async dispatch(socket: Socket, line: string): Promise<void> {
    let req: ControlRequest | CommandRequest;
    try {
      req = JSON.parse(line) as ControlRequest | CommandRequest;
      if (typeof req !== 'object' || req === null || typeof req.cmd !== 'string') throw new Error('no "cmd"');
    } catch (e) {
      this.reply(socket, { ok: false, error: `bad request: ${(e as Error).message}` });
      return;
    }
    try {
      this.reply(socket, { ok: true, result: await this.handler(req) });
    } catch (e) {
      this.log.debug('control request failed', { cmd: req.cmd, error: (e as Error).message });
      this.reply(socket, { ok: false, error: (e as Error).message });
    }
  }

  private reply(socket: Socket, r: ControlReply): void {
    if (!socket.destroyed) socket.write(JSON.stringify(r) + '\n');
  }
}

/** True when something accepts connections on the socket path. */
export function isLive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
