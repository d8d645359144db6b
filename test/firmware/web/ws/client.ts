// A WebSocket client for tests, written from RFC 6455 independently of the
// firmware's server: the handshake over HTTPS, masked frames out, frames in.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import type { Socket } from 'node:net';

export type Message = { text: string } | { binary: Buffer } | { close: number; reason: string } | { pong: Buffer };

export interface Refused {
  refused: true;
  status: number;
  body: string;
}

export interface Client {
  refused: false;
  messages: Message[];
  /** Resolves when a message matching `pred` has arrived (or rejects after `ms`). */
  until(pred: (m: Message[]) => boolean, ms?: number): Promise<void>;
  send(opcode: number, payload: Buffer): void;
  closed: Promise<void>;
  socket: Socket;
}

export function maskedFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

export function connect(port: number, ca: string, path: string, headers: Record<string, string> = {}): Promise<Refused | Client> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      ca,
      servername: 'localhost',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key, ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ refused: true, status: res.statusCode!, body }));
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) return reject(new Error('wrong Sec-WebSocket-Accept'));
      const messages: Message[] = [];
      const waiters = new Set<() => void>();
      let buf = head;
      const parse = () => {
        for (;;) {
          if (buf.length < 2) return;
          if (buf[1]! & 0x80) throw new Error('server frames must not be masked');
          let len = buf[1]! & 0x7f;
          let at = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            at = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            at = 10;
          }
          if (buf.length < at + len) return;
          const op = buf[0]! & 0x0f;
          const payload = Buffer.from(buf.subarray(at, at + len));
          buf = buf.subarray(at + len);
          if (op === 1) messages.push({ text: payload.toString('utf8') });
          else if (op === 2) messages.push({ binary: payload });
          else if (op === 8) messages.push({ close: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8') });
          else if (op === 10) messages.push({ pong: payload });
        }
      };
      socket.on('data', (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        parse();
        for (const w of waiters) w();
      });
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      parse();
      resolve({
        refused: false,
        messages,
        socket,
        closed,
        send: (op, payload) => socket.write(maskedFrame(op, payload)),
        until: (pred, ms = 10_000) =>
          new Promise<void>((res, rej) => {
            if (pred(messages)) return res();
            const timer = setTimeout(() => (waiters.delete(check), rej(new Error(`timed out; ${messages.length} messages`))), ms);
            const check = () => {
              if (!pred(messages)) return;
              clearTimeout(timer);
              waiters.delete(check);
              res();
            };
            waiters.add(check);
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
