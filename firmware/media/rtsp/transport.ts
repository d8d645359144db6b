/** The Transport (RFC 2326 §12.39), Session (§12.37) and RTP-Info (§12.33) headers. */
import { RtspProtocolError } from './errors.js';

export interface TransportSpec {
  /** "RTP/AVP", "RTP/AVP/TCP", "RTP/AVP/UDP", "RTP/SAVP"... as sent. */
  protocol: string;
  /** tcp when the lower transport is TCP (interleaved), else udp. */
  lower: 'tcp' | 'udp';
  unicast: boolean;
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  ssrc?: number;
  source?: string;
  destination?: string;
  mode?: string;
  /** Everything as sent, keys lower-cased. */
  params: Record<string, string>;
}

function range(v: string, max: number, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim());
  const a = m ? Number(m[1]) : NaN;
  const b = m?.[2] !== undefined ? Number(m[2]) : a + 1;
  if (!m || a > max || b > max) throw new RtspProtocolError(`Transport ${what}=${v.slice(0, 30)} is not a valid range`);
  return [a, b];
}

/** Parses a Transport header; it may list several comma-separated alternatives. */
export function parseTransport(value: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const alt of value.split(',')) {
    const parts = alt.split(';').map((s) => s.trim());
    const protocol = parts.shift() ?? '';
    if (!/^RTP\/S?AVPF?(\/(TCP|UDP))?$/i.test(protocol)) throw new RtspProtocolError(`unsupported transport "${protocol.slice(0, 40)}"`);
    const spec: TransportSpec = {
      protocol,
      lower: /\/TCP$/i.test(protocol) ? 'tcp' : 'udp',
      unicast: true,
      params: Object.create(null) as Record<string, string>,
    };
    for (const p of parts) {
      if (!p) continue;
      const eq = p.indexOf('=');
      const k = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
      const v = eq < 0 ? '' : p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      spec.params[k] = v;
      if (k === 'multicast') spec.unicast = false;
      else if (k === 'interleaved') spec.interleaved = range(v, 255, k);
      else if (k === 'client_port') spec.clientPort = range(v, 65535, k);
      else if (k === 'server_port') spec.serverPort = range(v, 65535, k);
      else if (k === 'ssrc') {
        if (!/^[0-9a-f]{1,8}$/i.test(v)) throw new RtspProtocolError(`Transport ssrc=${v.slice(0, 20)} is not 32-bit hex`);
        spec.ssrc = parseInt(v, 16);
      } else if (k === 'source') spec.source = v;
      else if (k === 'destination') spec.destination = v;
      else if (k === 'mode') spec.mode = v;
    }
    out.push(spec);
  }
  return out;
}

export type TransportRequest = { lower: 'tcp'; interleaved: [number, number] } | { lower: 'udp'; clientPort: [number, number] };

export function buildTransport(t: TransportRequest): string {
  return t.lower === 'tcp'
    ? `RTP/AVP/TCP;unicast;interleaved=${t.interleaved[0]}-${t.interleaved[1]}`
    : `RTP/AVP;unicast;client_port=${t.clientPort[0]}-${t.clientPort[1]}`;
}

export interface SessionHeader {
  id: string;
  /** Seconds; 60 when the camera does not say (RFC 2326 §12.37). */
  timeout: number;
}

export function parseSession(value: string): SessionHeader {
  const [id, ...params] = value.split(';').map((s) => s.trim());
  if (!id || !/^[\x21-\x7e]{1,256}$/.test(id)) throw new RtspProtocolError(`invalid Session "${value.slice(0, 40)}"`);
  let timeout = 60;
  for (const p of params) {
    const m = /^timeout\s*=\s*(\d{1,6})$/i.exec(p);
    // A zero or absurd timeout would make keep-alives spin or never run.
    if (m) timeout = Math.min(3600, Math.max(5, Number(m[1])));
  }
  return { id, timeout };
}

export interface RtpInfo {
  url: string;
  seq?: number;
  rtptime?: number;
}

/** RTP-Info: per stream, the first sequence number and timestamp after PLAY. */
export function parseRtpInfo(value: string): RtpInfo[] {
  const out: RtpInfo[] = [];
  for (const item of value.split(',')) {
    const info: RtpInfo = { url: '' };
    for (const p of item.split(';')) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim();
      if (k === 'url') info.url = v;
      else if (k === 'seq' && /^\d{1,5}$/.test(v)) info.seq = Number(v) & 0xffff;
      else if (k === 'rtptime' && /^\d{1,10}$/.test(v)) info.rtptime = Number(v) >>> 0;
    }
    if (info.url) out.push(info);
  }
  return out;
}
