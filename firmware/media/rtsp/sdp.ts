/**
 * SDP (RFC 8866) as cameras send it in DESCRIBE: session and media sections,
 * rtpmap/fmtp per payload type, and a=control resolved to the URL each track
 * is SET UP with (RFC 2326 §C.1.1, RFC 7826 §18.30 and what cameras really do).
 */
import { RtspProtocolError } from './errors.js';

export interface RtpMap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  /** "video", "audio", "application", ... */
  type: string;
  port: number;
  protocol: string;
  payloadTypes: number[];
  control?: string;
  rtpmap: Map<number, RtpMap>;
  /** Parameters per payload type, keys lower-cased, values as sent. */
  fmtp: Map<number, Record<string, string>>;
  /** Every a= line in order: [name, value] (value '' for flags). */
  attributes: [string, string][];
  /** b=AS in kbit/s, if given. */
  bandwidthKbps?: number;
}

export interface Sdp {
  sessionName: string;
  control?: string;
  /** a=range, e.g. "npt=0-" for live. */
  range?: string;
  attributes: [string, string][];
  media: SdpMedia[];
}

const MAX_SDP_BYTES = 64 * 1024;
const MAX_MEDIA = 32;
const MAX_LINES = 2000;

/** Parses fmtp parameters "k=v; k2=v2" (values may contain '=' as in base64). */
export function parseFmtpParams(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of text.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (key) out[key] = eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return out;
}

export function parseSdp(text: string): Sdp {
  if (text.length > MAX_SDP_BYTES) throw new RtspProtocolError(`SDP of ${text.length} bytes exceeds ${MAX_SDP_BYTES}`);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > MAX_LINES) throw new RtspProtocolError(`SDP has more than ${MAX_LINES} lines`);
  if (!lines[0]?.startsWith('v=')) throw new RtspProtocolError('SDP does not start with v=');
  const sdp: Sdp = { sessionName: '', attributes: [], media: [] };
  let media: SdpMedia | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line[1] !== '=') throw new RtspProtocolError(`SDP line "${line.slice(0, 60)}" is not <type>=<value>`);
    const kind = line[0]!;
    const value = line.slice(2);
    if (kind === 'm') {
      const m = /^(\S+) (\d+)(?:\/\d+)? (\S+)(?: (.*))?$/.exec(value);
      if (!m) throw new RtspProtocolError(`malformed SDP media line "m=${value.slice(0, 60)}"`);
      if (sdp.media.length >= MAX_MEDIA) throw new RtspProtocolError(`SDP has more than ${MAX_MEDIA} media sections`);
      const port = Number(m[2]);
      if (port > 65535) throw new RtspProtocolError(`SDP media port ${port} out of range`);
      const pts = (m[4] ?? '').split(/\s+/).filter(Boolean);
      media = {
        type: m[1]!,
        port,
        protocol: m[3]!,
        // Non-RTP protocols list formats that are not numbers; keep only payload types.
        payloadTypes: pts.map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n <= 127),
        rtpmap: new Map(),
        fmtp: new Map(),
        attributes: [],
      };
      sdp.media.push(media);
      continue;
    }
    if (kind === 's' && !media) sdp.sessionName = value;
    if (kind === 'b' && media) {
      const b = /^AS:(\d+)$/.exec(value);
      if (b) media.bandwidthKbps = Number(b[1]);
    }
    if (kind !== 'a') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const v = colon < 0 ? '' : value.slice(colon + 1);
    (media ?? sdp).attributes.push([name, v]);
    const lname = name.toLowerCase();
    if (lname === 'control') {
      if (media) media.control = v.trim();
      else sdp.control = v.trim();
    } else if (lname === 'range' && !media) {
      sdp.range = v.trim();
    } else if (lname === 'rtpmap' && media) {
      const r = /^(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(v.trim());
      if (!r) throw new RtspProtocolError(`malformed a=rtpmap:${v.slice(0, 60)}`);
      const pt = Number(r[1]);
      const map: RtpMap = { encoding: r[2]!, clockRate: Number(r[3]) };
      if (r[4] !== undefined) map.channels = Number(r[4]);
      if (pt > 127 || map.clockRate <= 0 || map.clockRate > 1e7) throw new RtspProtocolError(`a=rtpmap:${v.slice(0, 60)} out of range`);
      media.rtpmap.set(pt, map);
    } else if (lname === 'fmtp' && media) {
      const f = /^(\d+)\s*(.*)$/.exec(v.trim());
      if (!f) throw new RtspProtocolError(`malformed a=fmtp:${v.slice(0, 60)}`);
      const pt = Number(f[1]);
      if (pt > 127) throw new RtspProtocolError(`a=fmtp payload type ${pt} out of range`);
      media.fmtp.set(pt, parseFmtpParams(f[2]!));
    }
  }
  return sdp;
}

/**
 * The base URL for relative controls: Content-Base, else Content-Location,
 * else the request URL (RFC 2326 §C.1.1).
 */
export function sdpBaseUrl(requestUrl: string, headers: { get(name: string): string | undefined }): string {
  return headers.get('content-base')?.trim() || headers.get('content-location')?.trim() || requestUrl;
}

/**
 * Resolves a control attribute. An absolute URL is used as is; "*" or none
 * means the base itself; anything else is appended to the base as a path
 * segment, as ffmpeg and live555 do — plain RFC 3986 resolution would drop
 * the last segment of "rtsp://cam/live/ch1" + "trackID=1", which cameras
 * whose Content-Base lacks the trailing slash do not expect.
 */
export function resolveControl(base: string, control: string | undefined): string {
  const c = (control ?? '').trim();
  if (c === '' || c === '*') return base;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c)) return c;
  if (c.startsWith('/')) {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)/i.exec(base);
    return (m ? m[1] : '') + c;
  }
  return base.endsWith('/') ? base + c : `${base}/${c}`;
}

/** The URL a media section is set up with: media control relative to the session control (if any) relative to the base. */
export function mediaUrl(sdp: Sdp, media: SdpMedia, base: string): string {
  return resolveControl(resolveControl(base, sdp.control), media.control);
}
