/**
 * One TCP connection to an RTSP server: sends requests one at a time,
 * matches responses by CSeq, and hands interleaved frames and server requests
 * to its owner. Every failure ends the connection with one typed error, once.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { RtspConnectionError, RtspError, RtspTimeout } from './errors.js';
import { RtspHeaders, serializeInterleaved, serializeRequest, serializeResponse, type RtspRequest, type RtspResponse } from './message.js';
import { RtspParser, type RtspItem, type RtspLimits, type RtspSink } from './parser.js';
import { ReadBatcher } from './read-batcher.js';

/** An interleaved frame, bytes[start, end): valid only during the call (it may lie in the reused read buffer). */
export type InterleavedHandler = (channel: number, bytes: Uint8Array, start: number, end: number) => void;

export interface ConnectionEvents {
  /** Closed: err undefined only when we closed it ourselves. */
  close: [err: RtspError | undefined];
}

/** One socket read at most; as large as Node's own default read. */
const READ_BUFFER_BYTES = 64 * 1024;

export class RtspConnection extends EventEmitter<ConnectionEvents> implements RtspSink {
  /** Where interleaved frames go; a direct call rather than an event, at the packet rate. */
  onInterleaved: InterleavedHandler | undefined;
  private readonly socket: Socket;
  private readonly parser: RtspParser;
  private cseq = 0;
  private waiting: { cseq: number; resolve: (r: RtspResponse) => void; reject: (e: RtspError) => void; timer: NodeJS.Timeout } | undefined;
  private closedWith: { err: RtspError | undefined } | undefined;
  private readonly ready: Promise<void>;
  private batcher: ReadBatcher | undefined;

  constructor(host: string, port: number, timeoutMs: number, limits?: Partial<RtspLimits>) {
    super();
    this.parser = new RtspParser(limits);
    // `onread` hands each read to onData in one reused buffer: no Buffer per
    // read and no stream machinery (push, 'data', nextTick), which at media
    // packet rates cost more than the parsing. The parser hands over whole
    // interleaved frames where they lie in it and copies what it keeps.
    const readBuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const onread = {
      buffer: readBuf,
      callback: (n: number) => {
        this.batcher?.onRead(n);
        this.onData(readBuf.subarray(0, n));
        return true;
      },
    };
    this.socket = connect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.close(new RtspTimeout(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.once('close', (err) => {
        clearTimeout(timer);
        reject(err ?? new RtspConnectionError('connection closed'));
      });
    });
    this.ready.catch(() => {}); // observed through connect()
    this.socket.on('error', (e) => this.close(new RtspConnectionError(`connection to ${host}:${port} failed: ${e.message}`)));
    this.socket.on('close', () => this.close(new RtspConnectionError(`${host}:${port} closed the connection`)));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  connect(): Promise<void> {
    return this.ready;
  }

  /** Sends a request and waits for its response; a timeout closes the connection (framing is uncertain after it). */
  async request(method: string, uri: string, headers: RtspHeaders, timeoutMs: number): Promise<RtspResponse> {
    await this.ready;
    if (this.closedWith) throw this.closedWith.err ?? new RtspConnectionError('connection closed');
    if (this.waiting) throw new RtspError(`${method} sent while another request is outstanding`);
    const cseq = ++this.cseq;
    headers.set('CSeq', String(cseq));
    const req: RtspRequest = { method, uri, version: 'RTSP/1.0', headers, body: new Uint8Array(0) };
    const bytes = serializeRequest(req);
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new RtspTimeout(`no response to ${method} within ${timeoutMs} ms`);
        this.close(err);
      }, timeoutMs);
      this.waiting = { cseq, resolve, reject, timer };
      this.batcher?.release();
      this.socket.write(bytes);
    });
  }

  sendInterleaved(channel: number, data: Uint8Array): void {
    if (!this.closedWith) this.socket.write(serializeInterleaved(channel, data));
  }

  /**
   * Once media flows over this connection: let the kernel hand it over in
   * reads of about `delayMs` of stream (see ReadBatcher). False where the
   * socket has no file descriptor or refuses SO_RCVLOWAT; reads stay as they were.
   */
  batchReads(delayMs: number): boolean {
    if (this.closedWith || this.batcher || delayMs <= 0) return false;
    // Node exposes a TCP socket's descriptor on its handle (not on Windows, not for pipes).
    const fd = (this.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return false;
    const batcher = new ReadBatcher(fd, { delayMs });
    if (!batcher.start()) return false;
    this.batcher = batcher;
    return true;
  }

  /** Ends the connection; err is what the owner reports (undefined = we chose to). */
  close(err?: RtspError): void {
    if (this.closedWith) return;
    this.closedWith = { err };
    this.batcher?.stop();
    if (this.waiting) {
      clearTimeout(this.waiting.timer);
      this.waiting.reject(err ?? new RtspConnectionError('connection closed'));
      this.waiting = undefined;
    }
    this.socket.destroy();
    this.emit('close', err);
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    try {
      this.parser.scan(chunk, this);
    } catch (e) {
      // The parser's errors are protocol errors; anything else is a bug and not ours to hide.
      if (e instanceof RtspError) return this.close(e);
      throw e;
    }
  }

  /** RtspSink, for the parser. */
  interleaved(channel: number, bytes: Uint8Array, start: number, end: number): void {
    if (!this.closedWith) this.onInterleaved?.(channel, bytes, start, end);
  }

  /** RtspSink, for the parser. */
  message(item: RtspItem & { type: 'request' | 'response' }): void {
    if (this.closedWith) return;
    if (item.type === 'response') this.onResponse(item.message);
    else this.onServerRequest(item.message);
  }

  private onResponse(res: RtspResponse): void {
    const w = this.waiting;
    const cseq = Number(res.headers.get('cseq'));
    // Some cameras omit CSeq; with one request outstanding the response is still unambiguous.
    if (!w || (res.headers.has('cseq') && cseq !== w.cseq)) return;
    clearTimeout(w.timer);
    this.waiting = undefined;
    w.resolve(res);
  }

  /** Servers may send requests (RTSP 2.0 PLAY_NOTIFY, keep-alive checks); we implement none but must answer. */
  private onServerRequest(req: RtspRequest): void {
    const headers = new RtspHeaders();
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined && /^\d+$/.test(cseq)) headers.set('CSeq', cseq);
    const ok = req.method === 'OPTIONS' || req.method === 'GET_PARAMETER';
    this.socket.write(
      serializeResponse({ version: 'RTSP/1.0', status: ok ? 200 : 501, reason: ok ? 'OK' : 'Not Implemented', headers, body: new Uint8Array(0) }),
    );
  }
}
