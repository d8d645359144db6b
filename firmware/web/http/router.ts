import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/log.js';
import { SchemaError, type Schema } from '../../core/schema.js';
import type { Account } from '../auth/users.js';
import { roleAtLeast, type Role } from '../auth/roles.js';
import { badRequest, forbidden, HttpError, notFound, unauthorized } from './errors.js';

/**
 * Who may call a route: `public` (no login: health, login, setup status),
 * `setup` (only while no account exists), or the lowest role allowed.
 * There is no route without one of these: the type makes forgetting impossible.
 */
export type Access = 'public' | 'setup' | Role;

export interface RequestContext<B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body: B;
  /** The logged-in account; null only on public and setup routes. */
  account: Account | null;
  /** Client address, for the audit log and the login guard. */
  from: string;
  sessionId: string | null;
}

export interface Reply<R = unknown> {
  status?: number;
  body?: R;
  headers?: Record<string, string>;
}

/**
 * What a route answers when it succeeds, for the API document and for the
 * tests that hold each real reply to it: a JSON body and its schema (200
 * unless the route answers 201 or 202), no body (204), or a file or stream
 * the handler writes itself, by its content type (with the schema too where
 * the file is JSON). Refusals and failures are all one shape (`HttpError`).
 */
export type RouteResponse<R = unknown> =
  | {
      status?: 200 | 201 | 202;
      json: Schema<R>;
      description?: string;
      /** Other statuses answered with the same body (health: 503 when degraded). */
      also?: readonly number[];
    }
  | { status: 204; description: string }
  | { file: string; description: string; json?: Schema<unknown> };

export interface Route<B = unknown, R = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  access: Access;
  /** Validates the JSON body; routes without it refuse a body. */
  body?: Schema<B>;
  maxBodyBytes?: number;
  /** The handler reads the body from `req` itself (an upload too big to hold): its content type and size limit. */
  stream?: { contentType: string; maxBytes: number };
  summary: string;
  /** What a success answers; every route has one (a test fails a route without). */
  response?: RouteResponse<R>;
  /** Returns a reply (its body of the `response` schema's type), or undefined when it wrote the response itself (downloads, streams). */
  handler: (ctx: RequestContext<B>) => Promise<Reply<NoInfer<R>> | undefined>;
}

/** What the router needs to know about the caller; provided by the auth layer. */
export interface Authenticator {
  setupNeeded(): boolean;
  /** The account behind the request's session or token, or null. Throws HttpError for a bad CSRF token. */
  identify(req: IncomingMessage, method: string): Promise<{ account: Account; sessionId: string | null } | null>;
}

const PARAM = /^[A-Za-z0-9._-]{1,128}$/;
/** Deeper than any setting of the config (about 8 levels). */
const MAX_NESTING = 64;

/**
 * A path with a `.` or `..` segment, plain or percent-encoded, is refused
 * rather than resolved: browsers resolve them before sending, so only a
 * hand-made request has one, and answering it as another route would make
 * what a request reaches depend on URL resolution rules.
 */
export function malformedPath(rawUrl: string): boolean {
  const path = rawUrl.split(/[?#]/, 1)[0]!;
  for (const seg of path.split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      return true;
    }
    if (s === '.' || s === '..' || s.includes('/') || s.includes('\\')) return true;
  }
  return false;
}

/** How deeply arrays and objects nest in JSON text (brackets inside strings do not count). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
const DEFAULT_MAX_BODY = 64 * 1024;
/**
 * How long an ordinary body may take to arrive. The HTTPS server's own
 * request timeout is long enough for a firmware upload; every other route
 * keeps a short one here, so a body trickled in cannot hold a connection.
 */
export const BODY_DEADLINE_MS = 30_000;

interface Compiled {
  route: Route<unknown>;
  parts: string[];
}

export class Router {
  private readonly routes: Compiled[] = [];

  constructor(
    private readonly auth: Authenticator,
    private readonly log: Logger,
    private readonly bodyDeadlineMs = BODY_DEADLINE_MS,
  ) {}

  add<B, R>(route: Route<B, R>): void {
    this.routes.push({ route: route as Route<unknown>, parts: route.path.split('/').filter(Boolean) });
  }

  list(): Route<unknown>[] {
    return this.routes.map((r) => r.route);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (malformedPath(req.url ?? '/')) throw badRequest('malformed path');
      const url = new URL(req.url ?? '/', 'http://box');
      const method = req.method ?? 'GET';
      const { compiled, params, allowed } = this.match(method === 'HEAD' ? 'GET' : method, url.pathname);
      if (!compiled) {
        if (allowed.length) throw new HttpError(405, 'method-not-allowed', `use ${allowed.join(', ')}`, { allow: allowed.join(', ') });
        throw notFound();
      }
      const route = compiled.route;
      const from = req.socket.remoteAddress ?? 'unknown';
      let account: Account | null = null;
      let sessionId: string | null = null;
      if (route.access === 'setup') {
        if (!this.auth.setupNeeded()) throw new HttpError(409, 'setup-done', 'the box is already set up: log in');
      } else if (route.access !== 'public') {
        if (this.auth.setupNeeded()) throw new HttpError(503, 'setup-required', 'create the admin account first');
        const who = await this.auth.identify(req, method);
        if (!who) throw unauthorized();
        if (!roleAtLeast(who.account.role, route.access)) throw forbidden();
        account = who.account;
        sessionId = who.sessionId;
      }
      const body = await this.readBody(req, route);
      const reply = await route.handler({ req, res, params, query: url.searchParams, body, account, from, sessionId });
      if (reply) send(res, reply.status ?? 200, reply.body ?? null, reply.headers);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) return send(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      this.log.error('request failed', { method: req.method, url: req.url?.slice(0, 200), error: (err as Error).message });
      send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    }
  }

  private match(method: string, pathname: string): { compiled?: Compiled; params: Record<string, string>; allowed: string[] } {
    let segments: string[];
    try {
      segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw badRequest('malformed path');
    }
    const allowed: string[] = [];
    for (const c of this.routes) {
      if (c.parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < c.parts.length && ok; i++) {
        const p = c.parts[i]!;
        const s = segments[i]!;
        if (p.startsWith(':')) {
          // Parameters never carry separators or dot-dot: no path traversal through any route.
          if (!PARAM.test(s) || s === '.' || s === '..') ok = false;
          else params[p.slice(1)] = s;
        } else if (p !== s) ok = false;
      }
      if (!ok) continue;
      if (c.route.method === method) return { compiled: c, params, allowed };
      allowed.push(c.route.method);
    }
    return { params: {}, allowed };
  }

  private async readBody(req: IncomingMessage, route: Route<unknown>): Promise<unknown> {
    const max = route.stream?.maxBytes ?? route.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) throw new HttpError(413, 'too-large', `body over ${max} bytes`, { connection: 'close' });
    if (route.stream) {
      if ((req.headers['content-type'] ?? '').split(';')[0]!.trim() !== route.stream.contentType) {
        throw new HttpError(415, 'unsupported-media-type', `send the file as ${route.stream.contentType}`);
      }
      return undefined;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const late = setTimeout(() => req.destroy(), this.bodyDeadlineMs);
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > max) throw new HttpError(413, 'too-large', `body over ${max} bytes`);
        chunks.push(chunk as Buffer);
      }
    } finally {
      clearTimeout(late);
    }
    if (!route.body) {
      if (size > 0) throw badRequest('this request takes no body');
      return undefined;
    }
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      throw new HttpError(415, 'unsupported-media-type', 'send JSON with content-type application/json');
    }
    const text = Buffer.concat(chunks).toString('utf8');
    // Validation and secret-keeping walk a body recursively: a deep one would overflow the stack there.
    if (nestingDepth(text) > MAX_NESTING) throw badRequest(`body nested deeper than ${MAX_NESTING} levels`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw badRequest('body is not valid JSON');
    }
    try {
      return route.body.parse(json);
    } catch (e) {
      if (e instanceof SchemaError) throw new HttpError(422, 'invalid', e.message);
      throw e;
    }
  }
}

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
