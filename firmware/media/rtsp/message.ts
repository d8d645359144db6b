/** RTSP 1.0/2.0 messages (RFC 2326 §6-7, RFC 7826 §8) as plain values, and their serialization. */
import { RtspProtocolError } from './errors.js';

/** Header fields in order, names compared case-insensitively, repeats kept. */
export class RtspHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: Iterable<[string, string]> | Record<string, string>) {
    if (!init) return;
    const entries = Symbol.iterator in init ? (init as Iterable<[string, string]>) : Object.entries(init);
    for (const [k, v] of entries) this.append(k, v);
  }

  /** The first value, or undefined. */
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.list.find(([k]) => k.toLowerCase() === n)?.[1];
  }
  getAll(name: string): string[] {
    const n = name.toLowerCase();
    return this.list.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  append(name: string, value: string): void {
    this.list.push([name, value]);
  }
  set(name: string, value: string): void {
    this.delete(name);
    this.append(name, value);
  }
  delete(name: string): void {
    const n = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]![0].toLowerCase() === n) this.list.splice(i, 1);
  }
  get size(): number {
    return this.list.length;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.list[Symbol.iterator]();
  }
}

export interface RtspRequest {
  method: string;
  uri: string;
  /** "RTSP/1.0" or "RTSP/2.0". */
  version: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

export interface RtspResponse {
  version: string;
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function head(startLine: string, headers: RtspHeaders, body: Uint8Array): Buffer {
  const lines = [startLine];
  let hasLength = false;
  for (const [k, v] of headers) {
    if (!TOKEN.test(k)) throw new RtspProtocolError(`header name "${k}" is not a token`);
    // A CR or LF in a value would let it inject headers or a second message.
    if (/[\r\n\0]/.test(v)) throw new RtspProtocolError(`header ${k} contains a line break`);
    if (k.toLowerCase() === 'content-length') hasLength = true;
    lines.push(`${k}: ${v}`);
  }
  if (body.length > 0 && !hasLength) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), body]);
}

export function serializeRequest(r: RtspRequest): Buffer {
  if (!TOKEN.test(r.method)) throw new RtspProtocolError(`method "${r.method}" is not a token`);
  if (/[\s]/.test(r.uri) || r.uri.length === 0) throw new RtspProtocolError('request URI is empty or contains whitespace');
  return head(`${r.method} ${r.uri} ${r.version}`, r.headers, r.body);
}

export function serializeResponse(r: RtspResponse): Buffer {
  if (!Number.isInteger(r.status) || r.status < 100 || r.status > 999) throw new RtspProtocolError(`status ${r.status} is not 3 digits`);
  if (/[\r\n]/.test(r.reason)) throw new RtspProtocolError('reason phrase contains a line break');
  return head(`${r.version} ${r.status} ${r.reason}`, r.headers, r.body);
}

/** An interleaved frame: `$`, channel, 16-bit length, data (RFC 2326 §10.12). */
export function serializeInterleaved(channel: number, data: Uint8Array): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RtspProtocolError(`interleaved channel ${channel} is not 0..255`);
  if (data.length > 0xffff) throw new RtspProtocolError(`interleaved frame of ${data.length} bytes exceeds 65535`);
  const out = Buffer.allocUnsafe(4 + data.length);
  out[0] = 0x24;
  out[1] = channel;
  out.writeUInt16BE(data.length, 2);
  out.set(data, 4);
  return out;
}
