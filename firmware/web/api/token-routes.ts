import { array, int, object, string, type Schema } from '../../core/schema.js';
import type { AuditLog } from '../audit.js';
import type { ApiTokenStore, TokenInfo } from '../auth/tokens.js';
import { forbidden, notFound } from '../http/errors.js';
import type { Router } from '../http/router.js';

const tokenFields = { id: string({ pattern: /^[a-f0-9]{16}$/ }), label: string({ min: 1, max: 64 }), user: string({ min: 1, max: 64 }), created: int({ min: 0 }).describe('ms since the epoch') };
const tokenSchema: Schema<TokenInfo> = object(tokenFields);

/** API tokens for integrators: each account manages its own, an admin sees and revokes all. */
export function addTokenRoutes(router: Router, d: { tokens: ApiTokenStore; audit: AuditLog }): void {
  router.add({
    method: 'GET', path: '/api/v1/tokens', access: 'viewer', summary: 'my API tokens (an admin: everyone\'s); never their secrets',
    response: { json: object({ tokens: array(tokenSchema) }) },
    handler: async ({ account }) => ({ body: { tokens: d.tokens.list(account!.role === 'admin' ? undefined : account!.name) } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/tokens', access: 'viewer', summary: 'make an API token acting as me; its secret is in this answer only',
    body: object({ label: string({ min: 1, max: 64 }) }),
    response: {
      status: 201,
      json: object({ token: object({ ...tokenFields, token: string({ pattern: /^dvr_[a-f0-9]{16}\.[A-Za-z0-9_-]{43}$/ }).describe('Authorization: Bearer <token>; shown this once') }) }),
    },
    handler: async ({ account, body, sessionId, from }) => {
      // Only a logged-in person makes tokens: a leaked token cannot mint more.
      if (sessionId === null) throw forbidden('make tokens from a login session, not with a token');
      const t = await d.tokens.create(account!.name, body.label);
      await d.audit.record('token-created', account!.name, from, { id: t.id, label: t.label });
      return { status: 201, body: { token: t } };
    },
  });

  router.add({
    method: 'DELETE', path: '/api/v1/tokens/:id', access: 'viewer', summary: 'revoke an API token (mine; an admin: any)',
    response: { status: 204, description: 'revoked' },
    handler: async ({ account, params, from }) => {
      const ok = await d.tokens.revoke(params.id!, account!.role === 'admin' ? undefined : account!.name);
      if (!ok) throw notFound('no such token');
      await d.audit.record('token-revoked', account!.name, from, { id: params.id });
      return { status: 204 };
    },
  });
}
