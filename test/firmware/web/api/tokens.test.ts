// API tokens as an integrator uses them: made from a login session, sent as
// a Bearer header, acting with the account's role, revoked for good.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caller, startWeb } from '../web-service.js';

const ADMIN_PW = 'Install-Er-2026';

t.test('API tokens', async (t) => {
  const { web, dir } = await startWeb();
  t.teardown(() => web.stop());
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: ADMIN_PW });
  const session = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };

  const made = await call('POST', '/api/v1/tokens', session, { label: 'Home Assistant' });
  t.equal(made.status, 201, 'a token is made from a login session');
  const token = made.json.token.token as string;
  t.match(token, /^dvr_[a-f0-9]{16}\.[A-Za-z0-9_-]{43}$/);
  const bearer = { authorization: `Bearer ${token}` };
  t.equal((await call('GET', '/api/v1/me', bearer)).json.account.name, 'installer', 'the token acts as its account');
  t.equal((await call('PATCH', '/api/v1/config', bearer, { path: 'system.name', value: 'Gatehouse' })).status, 200, 'with its role, and without a CSRF token (no cookie is involved)');
  t.equal((await call('POST', '/api/v1/tokens', bearer, { label: 'more' })).status, 403, 'a token cannot make more tokens');
  for (const bad of [`Bearer ${token.slice(0, -1)}A`, 'Bearer dvr_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer nonsense', `Basic ${Buffer.from('installer:' + ADMIN_PW).toString('base64')}`]) {
    t.equal((await call('GET', '/api/v1/me', { authorization: bad })).status, 401, `${bad.slice(0, 24)}…: 401`);
  }
  const listed = await call('GET', '/api/v1/tokens', session);
  t.same(listed.json.tokens.map((x: { label: string }) => x.label), ['Home Assistant']);
  t.notOk(JSON.stringify(listed.json).includes(token.split('.')[1]!), 'the list never shows the secret');
  t.notOk(readFileSync(join(dir, 'tokens.json'), 'utf8').includes(token.split('.')[1]!), 'nor does the file on disk');

  // A viewer's token has the viewer's rights.
  await call('POST', '/api/v1/users', session, { name: 'guard', password: 'Night-Shift-77', role: 'viewer' });
  const guard = await call('POST', '/api/v1/login', {}, { name: 'guard', password: 'Night-Shift-77' });
  const guardToken = (await call('POST', '/api/v1/tokens', { cookie: guard.cookie, 'x-csrf-token': guard.json.csrf }, { label: 'script' })).json.token;
  t.equal((await call('GET', '/api/v1/users', { authorization: `Bearer ${guardToken.token}` })).status, 403, 'a viewer token: 403 on admin routes');
  t.equal((await call('DELETE', `/api/v1/tokens/${made.json.token.id}`, { authorization: `Bearer ${guardToken.token}` })).status, 404, "a viewer cannot revoke another's token");

  // A removed account's tokens die with it, even if the name comes back.
  t.equal((await call('DELETE', '/api/v1/users/guard', session)).status, 204);
  await call('POST', '/api/v1/users', session, { name: 'guard', password: 'Night-Shift-78', role: 'admin' });
  t.equal((await call('GET', '/api/v1/me', { authorization: `Bearer ${guardToken.token}` })).status, 401, 'the old token does not open the new account of the same name');

  t.equal((await call('DELETE', `/api/v1/tokens/${made.json.token.id}`, session)).status, 204, 'revoked');
  t.equal((await call('GET', '/api/v1/me', bearer)).status, 401, 'a revoked token: 401');
  const audit = (await call('GET', '/api/v1/audit', session)).json;
  t.match(JSON.stringify(audit), /token-created[\s\S]*token-revoked/, 'making and revoking are audited');
});

t.test('the OpenAPI document lists every route the box serves, with its access and body schema', async (t) => {
  const { web } = await startWeb();
  t.teardown(() => web.stop());
  const doc = (await import('../../../../firmware/web/api/openapi.js')).openApiDocument(web.router!.list(), 'test') as { openapi: string; paths: Record<string, Record<string, { 'x-access': string; requestBody?: unknown; security?: unknown[] }>> };
  t.equal(doc.openapi, '3.1.0');
  for (const r of web.router!.list()) {
    const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
    t.ok(op, `${r.method} ${r.path} is documented`);
    t.equal(op?.['x-access'], r.access);
    t.equal(op?.requestBody !== undefined, r.body !== undefined || r.stream !== undefined, `${r.method} ${r.path}: body documented exactly when it takes one`);
  }
  t.same(doc.paths['/api/v1/login']!.post!.security, [], 'public routes need no credentials');
  t.same(Object.keys((doc.paths['/api/v1/system/upgrade']!.post!.requestBody as { content: object }).content), ['application/octet-stream'], 'an upload is documented as the raw file it takes');
  t.match(doc.paths['/api/v1/users']!.post, { responses: { default: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } } }, 'errors have their one documented shape');
  t.match((doc as unknown as { components: { schemas: { Error: unknown } } }).components.schemas.Error, { required: ['error'], properties: { error: { required: ['code', 'message'] } } });
  t.match(doc.paths['/api/v1/users/{name}']!.patch, { requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { role: { enum: ['admin', 'operator', 'viewer'] } } } } } } });
});
