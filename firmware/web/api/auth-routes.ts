import { array, boolean, int, json, nullable, object, oneOf, record, string, type Schema } from '../../core/schema.js';
import { AUDIT_ACTIONS, type AuditLog } from '../audit.js';
import type { LoginGuard } from '../auth/login-guard.js';
import { channelRightsSchema, roleSchema, ROLES, usernameSchema } from '../auth/roles.js';
import type { SessionStore } from '../auth/sessions.js';
import { sessionCookie } from '../auth/web-auth.js';
import { UserError, type Account, type UserStore } from '../auth/users.js';
import { HttpError, badRequest } from '../http/errors.js';
import { SECURITY_HEADERS, type Router } from '../http/router.js';

export interface AuthRouteDeps {
  users: UserStore;
  sessions: SessionStore;
  guard: LoginGuard;
  audit: AuditLog;
}

const credentials = object({ name: string({ min: 1, max: 64 }), password: string({ min: 1, max: 256 }) });

/** What the API shows of an account: never its password hash. */
const accountSchema: Schema<Account> = object({
  name: usernameSchema,
  role: roleSchema,
  channels: nullable(channelRightsSchema).describe("rights per channel id; null: the role's rights on every channel"),
  created: int({ min: 0 }).describe('ms since the epoch'),
  passwordChanged: int({ min: 0 }).describe('ms since the epoch'),
});
const loggedIn = object({ account: accountSchema, csrf: string({ min: 1 }).describe('send it as x-csrf-token on every change made with the session cookie') });
const oneAccount = object({ account: accountSchema });
const auditRecordSchema = object({
  t: string().describe('ISO 8601 time'),
  action: oneOf(AUDIT_ACTIONS),
  user: nullable(string()),
  from: nullable(string()).describe('client address'),
  detail: record(json()).optional().describe('what the action concerned, secrets redacted'),
});

function userError(e: unknown): never {
  if (e instanceof UserError) {
    const status = { invalid: 422, 'weak-password': 422, exists: 409, 'not-found': 404, 'setup-done': 409, 'last-admin': 409 }[e.code];
    throw new HttpError(status, e.code, e.message);
  }
  throw e;
}

/** Setup, login, logout, the current account, and account management (admin). */
export function addAuthRoutes(router: Router, d: AuthRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/setup', access: 'public', summary: 'whether the admin account still has to be created',
    response: { json: object({ setupNeeded: boolean() }) },
    handler: async () => ({ body: { setupNeeded: d.users.setupNeeded } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/setup', access: 'setup', body: credentials, summary: 'first boot: create the admin account',
    response: { status: 201, json: loggedIn, description: 'the account made, logged in: the session cookie is set' },
    handler: async ({ body, from }) => {
      const account = await d.users.createFirstAdmin(body.name, body.password).catch(userError);
      await d.audit.record('setup', account.name, from);
      const s = d.sessions.create(account.name);
      return { status: 201, body: { account, csrf: s.csrf }, headers: { 'set-cookie': sessionCookie(s.id, null) } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/login', access: 'public', body: credentials, summary: 'log in; sets the session cookie and returns the CSRF token',
    response: { json: loggedIn, description: 'the account; the session cookie is set' },
    handler: async ({ body, from }) => {
      if (d.users.setupNeeded) throw new HttpError(503, 'setup-required', 'create the admin account first');
      const keys = [`ip:${from}`, `user:${body.name}`];
      const wait = d.guard.retryAfter(keys);
      if (wait > 0) {
        throw new HttpError(429, 'locked', `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`, { 'retry-after': String(Math.ceil(wait / 1000)) });
      }
      const account = await d.users.authenticate(body.name, body.password);
      if (!account) {
        d.guard.failure(keys);
        await d.audit.record('login-failed', body.name.slice(0, 64), from);
        throw new HttpError(401, 'bad-credentials', 'wrong user name or password');
      }
      d.guard.success(keys);
      await d.audit.record('login', account.name, from);
      const s = d.sessions.create(account.name);
      return { body: { account, csrf: s.csrf }, headers: { 'set-cookie': sessionCookie(s.id, null) } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/logout', access: 'viewer', summary: 'end this session',
    response: { status: 204, description: 'logged out; the session cookie is cleared' },
    handler: async ({ sessionId, account, from }) => {
      if (sessionId) d.sessions.end(sessionId);
      await d.audit.record('logout', account!.name, from);
      return { status: 204, headers: { 'set-cookie': sessionCookie('', 0) } };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/me', access: 'viewer', summary: "the logged-in account, and the session's CSRF token (a reloaded page has lost it)",
    response: { json: object({ account: accountSchema, csrf: nullable(string({ min: 1 })).describe('null with an API token: it needs none') }) },
    handler: async ({ account, sessionId }) => ({ body: { account: account!, csrf: d.sessions.get(sessionId ?? undefined)?.csrf ?? null } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/me/password', access: 'viewer', summary: 'change my password (needs the current one)',
    response: { status: 204, description: "changed; the account's other sessions are ended" },
    body: object({ current: string({ min: 1, max: 256 }), password: string({ min: 1, max: 256 }) }),
    handler: async ({ account, body, from, sessionId }) => {
      if (!(await d.users.authenticate(account!.name, body.current))) throw new HttpError(403, 'bad-credentials', 'current password is wrong');
      await d.users.setPassword(account!.name, body.password).catch(userError);
      d.sessions.endUser(account!.name, sessionId ?? undefined);
      await d.audit.record('password-changed', account!.name, from);
      return { status: 204 };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/users', access: 'admin', summary: 'list accounts',
    response: { json: object({ users: array(accountSchema) }) },
    handler: async () => ({ body: { users: d.users.list() } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/users', access: 'admin', summary: 'add an account',
    response: { status: 201, json: oneAccount },
    body: object({ name: string({ min: 1, max: 64 }), password: string({ min: 1, max: 256 }), role: oneOf(ROLES), channels: nullable(channelRightsSchema).default(null) }),
    handler: async ({ body, account, from }) => {
      const created = await d.users.addUser(body.name, body.role, body.password, body.channels).catch(userError);
      await d.audit.record('user-added', account!.name, from, { user: created.name, role: created.role });
      return { status: 201, body: { account: created } };
    },
  });

  router.add({
    method: 'PATCH', path: '/api/v1/users/:name', access: 'admin', summary: 'change the role or channel rights of an account',
    response: { json: oneAccount, description: "the account as changed; its sessions are ended" },
    body: object({ role: oneOf(ROLES), channels: nullable(channelRightsSchema).default(null) }),
    handler: async ({ params, body, account, from }) => {
      const changed = await d.users.setRole(params.name!, body.role, body.channels).catch(userError);
      d.sessions.endUser(changed.name);
      await d.audit.record('user-changed', account!.name, from, { user: changed.name, role: changed.role });
      return { body: { account: changed } };
    },
  });

  router.add({
    method: 'DELETE', path: '/api/v1/users/:name', access: 'admin', summary: 'remove an account and end its sessions',
    response: { status: 204, description: 'removed' },
    handler: async ({ params, account, from }) => {
      if (params.name === account!.name) throw badRequest('you cannot remove your own account', 'self');
      await d.users.removeUser(params.name!).catch(userError);
      d.sessions.endUser(params.name!);
      await d.audit.record('user-removed', account!.name, from, { user: params.name });
      return { status: 204 };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/audit', access: 'admin', summary: 'the audit log, newest last',
    response: { json: object({ records: array(auditRecordSchema, { max: 5000 }) }), description: 'the newest ?n= records (default 200, at most 5000), oldest first' },
    handler: async ({ query }) => {
      const n = Math.min(5000, Math.max(1, Number(query.get('n') ?? 200) || 200));
      return { body: { records: await d.audit.tail(n) } };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/audit/export.jsonl', access: 'admin', summary: 'the whole audit log (both files, oldest first) as a JSON-lines download; the export itself is its last record',
    response: { file: 'application/x-ndjson', description: 'a download (audit-<date>.jsonl): one audit record a line, as GET /api/v1/audit lists them' },
    handler: async ({ res, account, from }) => {
      // Recorded first, so the file says who took it and when.
      await d.audit.record('export', account!.name, from, { what: 'audit log' });
      const records = await d.audit.tail(Number.MAX_SAFE_INTEGER);
      const text = records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="audit-${records.at(-1)!.t.slice(0, 10)}.jsonl"` });
      res.end(text);
      return undefined;
    },
  });
}
