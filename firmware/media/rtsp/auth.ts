/**
 * RTSP authentication as HTTP's: Basic (RFC 7617) and Digest (RFC 2617,
 * RFC 7616: MD5, MD5-sess, SHA-256, SHA-512-256 and -sess variants, qop=auth,
 * nonce counting). We answer the strongest challenge the camera offers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RtspUnauthorized } from './errors.js';

export interface Challenge {
  /** Lower-case scheme: "basic", "digest", ... */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/** Splits on commas outside quoted strings. */
function splitOutsideQuotes(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted && c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unquote = (v: string): string => (v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);

/** Parses WWW-Authenticate header values; one value may hold several challenges. */
export function parseChallenges(values: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    let cur: Challenge | undefined;
    for (const rawItem of splitOutsideQuotes(value)) {
      const item = rawItem.trim();
      if (!item) continue;
      // "Scheme k=v" starts a challenge; "k=v" continues the current one.
      const start = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:\s+(.*))?$/s.exec(item);
      const param = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(.*)$/s.exec(item);
      if (param && cur && !/^\S+\s+\S+\s*=/.test(item)) {
        cur.params[param[1]!.toLowerCase()] = unquote(param[2]!.trim());
        continue;
      }
      if (!start) continue; // garbage: skip rather than fail, other challenges may be fine
      cur = { scheme: start[1]!.toLowerCase(), params: Object.create(null) as Record<string, string> };
      out.push(cur);
      const rest = start[2]?.trim();
      if (rest) {
        const p = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(.*)$/s.exec(rest);
        if (p && !/^[A-Za-z0-9+/._~-]+=*$/.test(rest)) cur.params[p[1]!.toLowerCase()] = unquote(p[2]!.trim());
        else cur.params['token68'] = rest;
      }
    }
  }
  return out;
}

const HASHES: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };
/** Higher is stronger. */
const STRENGTH: Record<string, number> = { 'md5': 1, 'md5-sess': 1, 'sha-256': 2, 'sha-256-sess': 2, 'sha-512-256': 3, 'sha-512-256-sess': 3 };

export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  uri: string;
  method: string;
  /** "MD5" (default), "MD5-sess", "SHA-256", ... */
  algorithm?: string;
  /** "auth" or undefined (RFC 2069 compatibility). */
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/** The Digest request-digest ("response" parameter). */
export function digestResponse(d: DigestInput): string {
  const alg = (d.algorithm ?? 'MD5').toLowerCase();
  const sess = alg.endsWith('-sess');
  const hashName = HASHES[sess ? alg.slice(0, -5) : alg];
  if (!hashName) throw new RtspUnauthorized(`Digest algorithm ${d.algorithm} is not supported`);
  const H = (s: string): string => createHash(hashName).update(s, 'utf8').digest('hex');
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (sess) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = H(`${d.method}:${d.uri}`);
  return d.qop ? H(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`) : H(`${ha1}:${d.nonce}:${ha2}`);
}

const quote = (v: string): string => `"${v.replace(/(["\\])/g, '\\$1')}"`;

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Keeps the chosen challenge and answers each request. Nonce counts go up
 * per request with the same nonce, as qop=auth requires.
 */
export class Authenticator {
  private chosen: Challenge | undefined;
  private nc = 0;

  constructor(
    private readonly creds: Credentials | undefined,
    private readonly cnonce: () => string = () => randomBytes(8).toString('hex'),
  ) {}

  get scheme(): string | undefined {
    return this.chosen?.scheme;
  }

  /**
   * Takes the WWW-Authenticate values of a 401. Returns true if a retry is
   * worth it: we have credentials and either had none in use yet or the
   * nonce merely went stale. Throws RtspUnauthorized when nothing usable is offered.
   */
  challenge(values: string[]): boolean {
    if (!this.creds) throw new RtspUnauthorized('the camera requires authentication and no credentials are configured');
    const all = parseChallenges(values);
    const usable = all.filter((c) => c.scheme === 'basic' || (c.scheme === 'digest' && c.params['nonce'] !== undefined && (c.params['algorithm'] ?? 'md5').toLowerCase() in STRENGTH));
    if (usable.length === 0) {
      throw new RtspUnauthorized(`no supported authentication scheme offered (${all.map((c) => c.scheme).join(', ') || 'none'})`);
    }
    const strength = (c: Challenge): number => (c.scheme === 'basic' ? 0 : STRENGTH[(c.params['algorithm'] ?? 'md5').toLowerCase()]!);
    const best = usable.reduce((a, b) => (strength(b) > strength(a) ? b : a));
    const previous = this.chosen;
    this.chosen = best;
    this.nc = 0;
    if (!previous) return true;
    // We already answered a challenge and were refused: only a stale nonce merits another try.
    return best.scheme === 'digest' && (best.params['stale'] ?? '').toLowerCase() === 'true';
  }

  /** Forgets the challenge (another server): nothing is sent before its own 401. */
  reset(): void {
    this.chosen = undefined;
    this.nc = 0;
  }

  /** The Authorization header value for a request, or undefined before any challenge. */
  authorization(method: string, uri: string): string | undefined {
    const c = this.chosen;
    if (!c || !this.creds) return undefined;
    const { username, password } = this.creds;
    if (c.scheme === 'basic') return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    const p = c.params;
    const qops = (p['qop'] ?? '').split(',').map((q) => q.trim().toLowerCase());
    const qop = qops.includes('auth') ? 'auth' : undefined;
    const nc = (++this.nc).toString(16).padStart(8, '0');
    const cnonce = this.cnonce();
    const response = digestResponse({
      username, password, method, uri, realm: p['realm'] ?? '', nonce: p['nonce']!, algorithm: p['algorithm'], qop, nc, cnonce,
    });
    const parts = [
      `username=${quote(username)}`,
      `realm=${quote(p['realm'] ?? '')}`,
      `nonce=${quote(p['nonce']!)}`,
      `uri=${quote(uri)}`,
      `response=${quote(response)}`,
    ];
    if (p['algorithm']) parts.push(`algorithm=${p['algorithm']}`);
    if (p['opaque'] !== undefined) parts.push(`opaque=${quote(p['opaque'])}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    return 'Digest ' + parts.join(', ');
  }
}
