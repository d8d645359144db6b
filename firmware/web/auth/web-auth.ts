import type { IncomingMessage } from 'node:http';
import type { ApiTokenStore } from './tokens.js';
import { HttpError } from '../http/errors.js';
import type { Authenticator } from '../http/router.js';
import type { SessionStore } from './sessions.js';
import type { Account, UserStore } from './users.js';

export const SESSION_COOKIE = 'dvr_session';
export const CSRF_HEADER = 'x-csrf-token';

export function parseCookies(header: string | undefined): Record<string, string> {
  // No prototype: a cookie named __proto__ or toString is just a name, and the first of a name wins.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !Object.hasOwn(out, k)) out[k] = part.slice(i + 1).trim();
  }
  return out;
}

export function sessionCookie(id: string, maxAgeS: number | null): string {
  // HttpOnly: page scripts never see it; SameSite=Strict: other sites cannot ride it; Secure: HTTPS only.
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; Secure; SameSite=Strict${maxAgeS === null ? '' : `; Max-Age=${maxAgeS}`}`;
}

/**
 * Identifies a request from its session cookie. State-changing methods must
 * also carry the session's CSRF token in a header, which another site's form
 * or script cannot read or set.
 */
export class WebAuth implements Authenticator {
  constructor(
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly tokens?: ApiTokenStore,
  ) {}

  setupNeeded(): boolean {
    return this.users.setupNeeded;
  }

  async identify(req: IncomingMessage, method: string): Promise<{ account: Account; sessionId: string | null } | null> {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (bearer) {
      // An API token: no cookie, no session, no CSRF (browsers never send it on their own).
      const token = this.tokens?.verify(bearer[1]!) ?? null;
      const account = token === null ? null : this.users.get(token.user);
      // A token older than its account belonged to a removed account of the same name.
      return account && account.created <= token!.created ? { account, sessionId: null } : null;
    }
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const session = this.sessions.get(id);
    if (!session) return null;
    const account = this.users.get(session.user);
    if (!account) {
      this.sessions.end(session.id);
      return null;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const presented = req.headers[CSRF_HEADER];
      if (!this.sessions.checkCsrf(session, Array.isArray(presented) ? presented[0] : presented)) {
        throw new HttpError(403, 'csrf', 'missing or wrong CSRF token');
      }
    }
    return { account, sessionId: session.id };
  }
}
