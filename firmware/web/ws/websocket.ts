// The server side of RFC 6455 WebSockets, enough for the live view: the
// handshake, unmasked frames out (binary media, text control), masked frames
// in (close, ping, small text messages). Written here rather than taken from
// npm: it is a hundred lines, and it reads bytes from the network, so it is
// ours to bound and fuzz (test/firmware/web/ws/).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export class WebSocketProtocolError extends Error {
  override name = 'WebSocketProtocolError';
  constructor(
    message: string,
    /** The close code to send (RFC 6455 7.4.1). */
    readonly code: number,
  ) {
    super(message);
  }
}

export interface ClientFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * Splits the client's byte stream into frames. Every client frame must be
 * masked (a server must fail one that is not); control frames are at most
 * 125 bytes and never fragmented; a data frame longer than `maxPayload` is
 * refused before its payload is buffered.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  /** Frames completed by `chunk`; throws WebSocketProtocolError on a frame no client may send. */
  push(chunk: Buffer): ClientFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: ClientFrame[] = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = (b[0]! & 0x80) !== 0;
      if (b[0]! & 0x70) throw new WebSocketProtocolError('reserved bits set without an extension', 1002);
      const opcode = b[0]! & 0x0f;
      if (![0, 1, 2, 8, 9, 10].includes(opcode)) throw new WebSocketProtocolError(`unknown opcode ${opcode}`, 1002);
      if (!(b[1]! & 0x80)) throw new WebSocketProtocolError('client frame not masked', 1002);
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayload)) throw new WebSocketProtocolError(`frame of ${big} bytes is over ${this.maxPayload}`, 1009);
        len = Number(big);
        at = 10;
      }
      if (opcode >= 8 && (len > 125 || !fin)) throw new WebSocketProtocolError('control frame too long or fragmented', 1002);
      if (len > this.maxPayload) throw new WebSocketProtocolError(`frame of ${len} bytes is over ${this.maxPayload}`, 1009);
      if (b.length < at + 4 + len) break;
      const mask = b.subarray(at, at + 4);
      const payload = Buffer.from(b.subarray(at + 4, at + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      out.push({ fin, opcode, payload });
      this.buf = b.subarray(at + 4 + len);
    }
    return out;
  }
}

/** A server frame header: FIN set, never masked. */
export function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 0x10000) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

export interface WebSocketEvents {
  text: [message: string];
  close: [code: number, reason: string];
}

/** One accepted connection. */
export class WebSocket extends EventEmitter<WebSocketEvents> {
  private readonly reader: FrameReader;
  private closed = false;
  private fragments: Buffer[] = [];

  constructor(
    private readonly socket: Duplex,
    maxMessage = 64 * 1024,
  ) {
    super();
    this.reader = new FrameReader(maxMessage);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('close', () => this.finish(1006, 'connection lost'));
    socket.on('error', () => this.finish(1006, 'connection lost'));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Bytes queued in the socket and not yet sent: what a slow viewer is behind by. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  sendBinary(data: Uint8Array): void {
    if (this.closed) return;
    this.socket.write(frameHeader(OP.binary, data.length));
    this.socket.write(data);
  }

  sendText(text: string): void {
    if (this.closed) return;
    const data = Buffer.from(text, 'utf8');
    this.socket.write(Buffer.concat([frameHeader(OP.text, data.length), data]));
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    const r = Buffer.from(reason.slice(0, 100), 'utf8');
    const payload = Buffer.alloc(2 + r.length);
    payload.writeUInt16BE(code, 0);
    r.copy(payload, 2);
    this.socket.end(Buffer.concat([frameHeader(OP.close, payload.length), payload]));
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // end() lets a queued close frame go out; a peer that never reads is cut by the timeout.
    if (!this.socket.writableEnded) this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 5000);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
    this.emit('close', code, reason);
  }

  private onData(chunk: Buffer): void {
    let frames: ClientFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      const err = e as WebSocketProtocolError;
      this.close(err.code, err.message);
      this.socket.destroy();
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      if (f.opcode === OP.close) return this.close(1000);
      if (f.opcode === OP.ping) {
        this.socket.write(Buffer.concat([frameHeader(OP.pong, f.payload.length), f.payload]));
        continue;
      }
      if (f.opcode === OP.pong) continue;
      // Text and binary messages, possibly fragmented; only text means anything here.
      this.fragments.push(f.payload);
      const total = this.fragments.reduce((n, p) => n + p.length, 0);
      if (total > 64 * 1024) return this.close(1009, 'message too big');
      if (!f.fin) continue;
      const message = Buffer.concat(this.fragments);
      this.fragments = [];
      if (f.opcode === OP.text || f.opcode === OP.continuation) this.emit('text', message.toString('utf8'));
    }
  }
}

/**
 * Completes the handshake of an `upgrade` request and returns the
 * connection, or answers 400 and returns null for a request that is not a
 * valid WebSocket handshake.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): WebSocket | null {
  const key = req.headers['sec-websocket-key'];
  const ok =
    req.method === 'GET' &&
    /\bwebsocket\b/i.test(req.headers.upgrade ?? '') &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' &&
    /^[A-Za-z0-9+/]{22}==$/.test(key);
  if (!ok) {
    refuseUpgrade(socket, 400, 'not a WebSocket handshake');
    return null;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  // Bytes that came with the handshake go first, before the reader attaches.
  if (head.length) socket.unshift(head);
  return new WebSocket(socket);
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: String(status), message } });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
