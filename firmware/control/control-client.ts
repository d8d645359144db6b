import { createConnection } from 'node:net';
import type { CommandRequest, ControlReply, ControlRequest } from './protocol.js';

export class NotRunningError extends Error {
  override name = 'NotRunningError';
}

/** The firmware refused the request (a bad setting, an unknown path): a message for the user. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/** Sends one request to the running firmware and returns its result, or throws its error. */
export function controlRequest(socketPath: string, req: ControlRequest | CommandRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socketPath);
    let buf = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`the firmware did not answer within ${timeoutMs} ms`));
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new NotRunningError('the firmware is not running'));
      else reject(e);
    });
    s.once('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      s.end();
      const reply = JSON.parse(buf.slice(0, nl)) as ControlReply;
      if (reply.ok) resolve(reply.result);
      else reject(new RemoteError(reply.error));
    });
  });
}
