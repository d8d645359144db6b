/**
 * Digest authentication for the RTSP server (RFC 2617 MD5, qop=auth, which
 * every RTSP client we know speaks). The server keeps no per-user secret:
 * it asks an injected lookup for HA1 = MD5(user:realm:password), so the
 * password itself never has to be stored where the server can read it.
 *
 * Nonces are stateless: hex time + HMAC of it under a per-process key, valid
 * for a few minutes, after which the client is told `stale=true` and simply
 * retries. Basic is not offered: RTSP runs in clear text, and Basic would
 * put the account's password (the same one as the web UI's) on the wire in
 * every request; it would also make each request cost a full password-hash
 * verification, a cheap denial of service on a small board.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseChallenges } from './auth.js';

export interface DigestCredentialLookup {
  /** HA1 = hex MD5("user:realm:password") for this user, or null when there is no such user (or no RTSP access). */
  ha1(username: string, realm: string): string | null | Promise<string | null>;
}

export type DigestResult = { ok: true; username: string } | { ok: false; stale: boolean; reason: string };

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** HA1 for a user's password, for whoever stores credentials for the server. */
export function digestHa1(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`);
}

/** Path of an RTSP URI ("rtsp://h:1/a/b" → "/a/b"); the URI itself when it is not absolute. */
function uriPath(uri: string): string {
  const m = /^rtsps?:\/\/[^/]*(\/.*)?$/i.exec(uri);
  return m ? (m[1] ?? '/') : uri;
}

export class DigestGuard {
  private readonly key: Buffer;

  constructor(
    readonly realm: string,
    private readonly now: () => number,
    private readonly nonceLifetimeMs = 5 * 60_000,
    key?: Uint8Array,
  ) {
    this.key = Buffer.from(key ?? randomBytes(32));
  }

  private sign(time: string): string {
    return createHmac('sha256', this.key).update(time).digest('hex').slice(0, 32);
  }

  nonce(): string {
    const t = Math.floor(this.now()).toString(16).padStart(12, '0');
    return t + this.sign(t);
  }

  /** The WWW-Authenticate value of a 401. */
  challenge(stale = false): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=TRUE' : ''}`;
  }

  /** 'ok', 'stale' (ours but expired) or 'bad' (not ours). */
  private checkNonce(nonce: string): 'ok' | 'stale' | 'bad' {
    if (!/^[0-9a-f]{44}$/.test(nonce)) return 'bad';
    const t = nonce.slice(0, 12);
    const mac = Buffer.from(nonce.slice(12), 'hex');
    if (!timingSafeEqual(mac, Buffer.from(this.sign(t), 'hex'))) return 'bad';
    const age = this.now() - parseInt(t, 16);
    return age >= -60_000 && age <= this.nonceLifetimeMs ? 'ok' : 'stale';
  }

  /** Checks an Authorization header value for a request. Never throws on what the client sent. */
  async verify(method: string, requestUri: string, header: string | undefined, lookup: DigestCredentialLookup): Promise<DigestResult> {
    if (!header) return { ok: false, stale: false, reason: 'no credentials' };
    const c = parseChallenges([header])[0];
    if (!c || c.scheme !== 'digest') return { ok: false, stale: false, reason: 'not Digest' };
    const p = c.params;
    const { username, nonce, uri, response } = p;
    if (!username || !nonce || !uri || !response) return { ok: false, stale: false, reason: 'incomplete Digest' };
    if ((p['realm'] ?? '') !== this.realm) return { ok: false, stale: false, reason: 'wrong realm' };
    if ((p['algorithm'] ?? 'MD5').toUpperCase() !== 'MD5') return { ok: false, stale: false, reason: 'unsupported algorithm' };
    // The digest covers its own uri: it must name the resource asked for, or it could be replayed on another path.
    if (uriPath(uri) !== uriPath(requestUri)) return { ok: false, stale: false, reason: 'uri mismatch' };
    const n = this.checkNonce(nonce);
    if (n === 'bad') return { ok: false, stale: false, reason: 'unknown nonce' };
    const ha1 = await lookup.ha1(username, this.realm);
    const ha2 = md5(`${method}:${uri}`);
    const qop = p['qop'];
    if (qop !== undefined && (qop !== 'auth' || !p['nc'] || p['cnonce'] === undefined)) return { ok: false, stale: false, reason: 'bad qop' };
    // Computed even for an unknown user, so timing does not tell which users exist.
    const key = ha1 ?? md5(`${username}:${this.realm}:${randomBytes(16).toString('hex')}`);
    const expected = qop ? md5(`${key}:${nonce}:${p['nc']}:${p['cnonce']}:${qop}:${ha2}`) : md5(`${key}:${nonce}:${ha2}`);
    const got = Buffer.from(response.toLowerCase().padEnd(32, '0').slice(0, 32), 'latin1');
    const good = timingSafeEqual(got, Buffer.from(expected, 'latin1')) && response.length === 32 && ha1 !== null;
    if (!good) return { ok: false, stale: false, reason: 'wrong credentials' };
    if (n === 'stale') return { ok: false, stale: true, reason: 'stale nonce' };
    return { ok: true, username };
  }
}
