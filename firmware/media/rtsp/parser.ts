/**
 * Streaming parser for what arrives on an RTSP connection: requests,
 * responses and `$`-interleaved binary frames, fed chunks with arbitrary
 * boundaries. Bounded: a message head, a body and an interleaved frame each
 * have a size limit, so the buffer never exceeds roughly the largest of them.
 * After a protocol error the connection is unusable (framing is lost) and
 * every later push throws the same error.
 */
import { RtspProtocolError } from './errors.js';
import { RtspHeaders, type RtspRequest, type RtspResponse } from './message.js';

export type RtspItem =
  | { type: 'request'; message: RtspRequest }
  | { type: 'response'; message: RtspResponse }
  | { type: 'interleaved'; channel: number; data: Uint8Array };

/** Where scan() hands what it parsed. */
export interface RtspSink {
  /** An interleaved frame, bytes[start, end): valid only during the call (it may lie in the caller's reused chunk). */
  interleaved(channel: number, bytes: Uint8Array, start: number, end: number): void;
  message(item: RtspItem & { type: 'request' | 'response' }): void;
}

export interface RtspLimits {
  /** Longest start or header line. */
  maxLineLength: number;
  maxHeaders: number;
  /** Whole head (start line + headers). */
  maxHeadBytes: number;
  /** Content-Length upper bound (an SDP is a few kB). */
  maxBodyBytes: number;
}

export const defaultLimits: RtspLimits = {
  maxLineLength: 4096,
  maxHeaders: 64,
  maxHeadBytes: 16384,
  maxBodyBytes: 1 << 20,
};

const RESPONSE_LINE = /^(RTSP\/\d\.\d) (\d{3})(?: (.*))?$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) (RTSP\/\d\.\d)$/;
const HEADER = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t]*$/;

export class RtspParser {
  private buf: Buffer = Buffer.alloc(0);
  private failed: RtspProtocolError | undefined;
  /** A parsed head waiting for its body. */
  private pending: { head: RtspItem & { type: 'request' | 'response' }; length: number } | undefined;
  /** How far the current head was already checked, so tiny chunks do not rescan it (O(n²)). */
  private scanPos = 0;
  private scanLineStart = 0;
  readonly limits: RtspLimits;

  constructor(limits: Partial<RtspLimits> = {}) {
    this.limits = { ...defaultLimits, ...limits };
  }

  /** scan(): the start of an interleaved frame that the chunk cut, completed from the next chunk. */
  private carry: Buffer | undefined;
  private carryLength = 0;

  /** Bytes held waiting for the rest of a message or frame. */
  get buffered(): number {
    return this.buf.length + this.carryLength;
  }

  /**
   * push() for the media path: interleaved frames that arrive whole are
   * handed to the sink where they lie in `chunk`, without a copy or an
   * object each (at a camera's packet rate these cost more than the rest of
   * the parsing). Text messages, rare once media flows, and whatever follows
   * them in the chunk take push()'s path. Throws as push() does.
   */
  scan(chunk: Uint8Array, sink: RtspSink): void {
    if (this.failed) throw this.failed;
    let o = this.carryLength > 0 ? this.fillCarry(chunk, sink) : 0;
    if (this.carryLength > 0) return;
    const n = chunk.length;
    if (this.buf.length > 0 || this.pending) return this.deliver(this.push(chunk.subarray(o)), sink);
    while (o < n) {
      const c = chunk[o]!;
      if (c === 0x0d || c === 0x0a) {
        o++; // a blank line between messages, as next() allows
        continue;
      }
      if (c !== 0x24) return this.deliver(this.push(chunk.subarray(o)), sink);
      if (o + 4 > n) break;
      const end = o + 4 + ((chunk[o + 2]! << 8) | chunk[o + 3]!);
      if (end > n) break;
      sink.interleaved(chunk[o + 1]!, chunk, o + 4, end);
      o = end;
    }
    if (o === n) return;
    // A frame the chunk cut: at most 64 KiB plus its 4-byte head.
    this.carry ??= Buffer.allocUnsafe(4 + 0xffff);
    this.carry.set(chunk.subarray(o), 0);
    this.carryLength = n - o;
  }

  /** Completes the carried frame from the chunk's start; returns the bytes taken. */
  private fillCarry(chunk: Uint8Array, sink: RtspSink): number {
    const c = this.carry!;
    let o = 0;
    if (this.carryLength < 4) {
      o = Math.min(4 - this.carryLength, chunk.length);
      c.set(chunk.subarray(0, o), this.carryLength);
      this.carryLength += o;
      if (this.carryLength < 4) return o;
    }
    const total = 4 + ((c[2]! << 8) | c[3]!);
    const take = Math.min(total - this.carryLength, chunk.length - o);
    c.set(chunk.subarray(o, o + take), this.carryLength);
    this.carryLength += take;
    o += take;
    if (this.carryLength === total) {
      this.carryLength = 0;
      sink.interleaved(c[1]!, c, 4, total);
    }
    return o;
  }

  private deliver(items: RtspItem[], sink: RtspSink): void {
    for (const item of items) {
      if (item.type === 'interleaved') sink.interleaved(item.channel, item.data, 0, item.data.length);
      else sink.message(item);
    }
  }

  /**
   * The chunk is copied, once: the caller may reuse its memory (a socket's
   * `onread` buffer). Items are views into that copy, which the parser never
   * writes to, so they stay valid however long the caller keeps them.
   */
  push(chunk: Uint8Array): RtspItem[] {
    if (this.failed) throw this.failed;
    if (this.carryLength > 0) {
      // A frame scan() carried comes first.
      this.buf = copyOf(this.carry!.subarray(0, this.carryLength));
      this.carryLength = 0;
    }
    this.buf = this.buf.length === 0 ? copyOf(chunk) : Buffer.concat([this.buf, chunk]);
    const out: RtspItem[] = [];
    try {
      for (;;) {
        const item = this.next();
        if (!item) break;
        out.push(item);
      }
    } catch (e) {
      this.failed = e instanceof RtspProtocolError ? e : new RtspProtocolError(String(e));
      this.buf = Buffer.alloc(0);
      throw this.failed;
    }
    // Drop the consumed prefix's backing store when little remains.
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }

  private take(n: number): Buffer {
    // A view, not a copy: push() made the bytes ours and nothing writes to them again.
    const part = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return part;
  }

  private next(): RtspItem | undefined {
    const b = this.buf;
    if (this.pending) {
      if (b.length < this.pending.length) return undefined;
      const { head, length } = this.pending;
      this.pending = undefined;
      head.message.body = this.take(length);
      return head;
    }
    // Tolerate blank lines between messages (some cameras add a CRLF).
    let skip = 0;
    while (skip < b.length && (b[skip] === 0x0d || b[skip] === 0x0a)) skip++;
    if (skip > 0) {
      this.buf = b.subarray(skip);
      this.scanPos = 0;
      this.scanLineStart = 0;
    }
    if (this.buf.length === 0) return undefined;
    if (this.buf[0] === 0x24) {
      if (this.buf.length < 4) return undefined;
      const channel = this.buf[1]!;
      const len = this.buf.readUInt16BE(2);
      if (this.buf.length < 4 + len) return undefined;
      this.buf = this.buf.subarray(4);
      return { type: 'interleaved', channel, data: this.take(len) };
    }
    return this.head();
  }

  private head(): RtspItem | undefined {
    const b = this.buf;
    const L = this.limits;
    const end = b.indexOf('\r\n\r\n');
    const endLf = end < 0 ? b.indexOf('\n\n') : -1;
    const headEnd = end >= 0 ? end : endLf;
    const scanned = headEnd >= 0 ? headEnd : b.length;
    // Fail early on binary junk or overlong lines instead of buffering up to the limit.
    let lineStart = this.scanLineStart;
    for (let i = this.scanPos; i < scanned; i++) {
      const c = b[i]!;
      if (c === 0x0a) {
        lineStart = i + 1;
        continue;
      }
      if ((c < 0x20 && c !== 0x0d && c !== 0x09) || c === 0x7f) {
        throw new RtspProtocolError(`control byte 0x${c.toString(16).padStart(2, '0')} in message head at offset ${i}`);
      }
      if (i - lineStart >= L.maxLineLength) throw new RtspProtocolError(`header line longer than ${L.maxLineLength} bytes`);
    }
    this.scanPos = scanned;
    this.scanLineStart = lineStart;
    if (headEnd < 0) {
      if (b.length > L.maxHeadBytes) throw new RtspProtocolError(`message head longer than ${L.maxHeadBytes} bytes`);
      return undefined;
    }
    if (headEnd > L.maxHeadBytes) throw new RtspProtocolError(`message head longer than ${L.maxHeadBytes} bytes`);
    this.scanPos = 0;
    this.scanLineStart = 0;
    const text = b.subarray(0, headEnd).toString('latin1');
    this.buf = b.subarray(headEnd + (end >= 0 ? 4 : 2));
    const lines = text.split(/\r?\n/);
    const start = lines.shift()!;
    const headers = new RtspHeaders();
    let count = 0;
    let last: [string, string] | undefined;
    const list: [string, string][] = [];
    for (const line of lines) {
      if (/^[ \t]/.test(line) && last) {
        last[1] = `${last[1]} ${line.trim()}`.trim(); // obsolete line folding
        continue;
      }
      const m = HEADER.exec(line);
      if (!m) throw new RtspProtocolError(`malformed header line "${line.slice(0, 80)}"`);
      if (++count > L.maxHeaders) throw new RtspProtocolError(`more than ${L.maxHeaders} headers`);
      last = [m[1]!, m[2]!];
      list.push(last);
    }
    for (const [k, v] of list) headers.append(k, Buffer.from(v, 'latin1').toString('utf8'));
    const lengths = headers.getAll('content-length');
    let length = 0;
    if (lengths.length > 0) {
      if (!lengths.every((v) => v === lengths[0]) || !/^\d{1,10}$/.test(lengths[0]!)) {
        throw new RtspProtocolError(`invalid Content-Length "${lengths.join(', ').slice(0, 40)}"`);
      }
      length = Number(lengths[0]);
      if (length > L.maxBodyBytes) throw new RtspProtocolError(`body of ${length} bytes exceeds the ${L.maxBodyBytes}-byte limit`);
    }
    let item: RtspItem & { type: 'request' | 'response' };
    const empty = new Uint8Array(0);
    const rm = RESPONSE_LINE.exec(start);
    if (rm) {
      item = { type: 'response', message: { version: rm[1]!, status: Number(rm[2]), reason: rm[3] ?? '', headers, body: empty } };
    } else {
      const qm = REQUEST_LINE.exec(start);
      if (!qm) throw new RtspProtocolError(`not an RTSP start line: "${start.slice(0, 80)}"`);
      item = { type: 'request', message: { method: qm[1]!, uri: qm[2]!, version: qm[3]!, headers, body: empty } };
    }
    if (length === 0) return item;
    this.pending = { head: item, length };
    return this.next();
  }
}

/** A copy in memory of its own (Buffer.from takes a slower generic path for a Uint8Array). */
function copyOf(chunk: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(chunk.length);
  b.set(chunk);
  return b;
}
