import t from 'tap';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { startWeb } from './web-service.js';

const ADMIN_PW = 'Install-Er-2026';

/** HTTPS with our own generated certificate pinned as the only CA: the test verifies it like a careful client would. */
function request(port: number, ca: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; text: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, method, path, headers, ca, servername: 'localhost' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function boot() {
  const { web, config, dir } = await startWeb();
  const call = async (method: string, path: string, opts: { body?: unknown; raw?: string; cookie?: string; csrf?: string; type?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    const res = await request(web.ports!.https, web.certificate!.cert, method, path, headers, opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)));
    const h = res.headers;
    return { status: res.status, json: res.text ? (JSON.parse(res.text) as Record<string, any>) : null, headers: { get: (k: string) => { const v = h[k]; return Array.isArray(v) ? v[0]! : (v ?? null); } } };
  };
  return { web, config, call, dir };
}

type Call = Awaited<ReturnType<typeof boot>>['call'];

async function login(call: Call, name: string, password: string) {
  const r = await call('POST', '/api/v1/login', { body: { name, password } });
  if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf: r.json!.csrf as string };
}

t.test('first boot: nothing is served but setup until the admin account exists', async (t) => {
  const { web, call } = await boot();
  t.teardown(() => web.stop());
  t.same((await call('GET', '/api/v1/setup')).json, { setupNeeded: true });
  t.equal((await call('GET', '/api/v1/users')).status, 503, 'API closed during setup');
  t.equal((await call('POST', '/api/v1/login', { body: { name: 'admin', password: 'admin' } })).status, 503, 'no default login');
  const weak = await call('POST', '/api/v1/setup', { body: { name: 'admin', password: 'admin' } });
  t.equal(weak.status, 422);
  t.match(weak.json!.error.message, /at least 10 characters/);
  const ok = await call('POST', '/api/v1/setup', { body: { name: 'installer', password: ADMIN_PW } });
  t.equal(ok.status, 201);
  t.match(ok.headers.get('set-cookie'), /^dvr_session=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  t.equal((await call('POST', '/api/v1/setup', { body: { name: 'x', password: ADMIN_PW } })).status, 409, 'setup cannot run twice');
  t.equal(ok.headers.get('x-frame-options'), 'DENY');
  t.match(ok.headers.get('content-security-policy'), /default-src 'self'/);
});

t.test('every route refuses the wrong caller, and none changes state when refused', async (t) => {
  const { web, call, config } = await boot();
  t.teardown(() => web.stop());
  await call('POST', '/api/v1/setup', { body: { name: 'installer', password: ADMIN_PW } });
  const admin = await login(call, 'installer', ADMIN_PW);
  t.equal((await call('POST', '/api/v1/users', { ...admin, body: { name: 'guard', password: 'Night-Shift-77', role: 'viewer' } })).status, 201);
  const viewer = await login(call, 'guard', 'Night-Shift-77');
  const before = { users: (await call('GET', '/api/v1/users', admin)).json, config: config.get() };

  const routes = web.router!.list();
  const sample = (p: string) => p.replace(/:(\w+)/g, 'guard');
  for (const r of routes.filter((r) => r.access !== 'public' && r.access !== 'setup')) {
    const anon = await call(r.method, sample(r.path), r.body ? { body: {} } : {});
    t.equal(anon.status, 401, `${r.method} ${r.path} without a session → 401`);
    if (r.access === 'admin' || r.access === 'operator') {
      const v = await call(r.method, sample(r.path), { ...viewer, ...(r.body ? { body: {} } : {}) });
      t.equal(v.status, 403, `${r.method} ${r.path} as viewer → 403`);
    }
    if (r.method !== 'GET') {
      const noCsrf = await call(r.method, sample(r.path), { cookie: admin.cookie, ...(r.body ? { body: {} } : {}) });
      t.equal(noCsrf.status, 403, `${r.method} ${r.path} without the CSRF token → 403`);
      t.equal(noCsrf.json!.error.code, 'csrf');
    }
  }
  t.same((await call('GET', '/api/v1/users', admin)).json, before.users, 'accounts unchanged');
  t.same(config.get(), before.config, 'config unchanged');
});

t.test('hostile input: traversal, oversize, malformed, shell metacharacters', async (t) => {
  const { web, call, config } = await boot();
  t.teardown(() => web.stop());
  await call('POST', '/api/v1/setup', { body: { name: 'installer', password: ADMIN_PW } });
  const admin = await login(call, 'installer', ADMIN_PW);
  for (const p of ['/api/v1/users/..%2F..%2Fetc%2Fpasswd', '/api/v1/users/%2e%2e', '/api/v1/users/a%00b', '/api/v1/users/%E0%A4%A']) {
    const r = await call('DELETE', p, admin);
    t.ok(r.status === 404 || r.status === 400, `${p} → ${r.status}, never reaches a handler`);
  }
  t.equal((await call('PATCH', '/api/v1/config', { ...admin, raw: 'x'.repeat(70_000) })).status, 413);
  t.equal((await call('PATCH', '/api/v1/config', { ...admin, raw: '{"path": ' })).status, 400);
  t.equal((await call('PATCH', '/api/v1/config', { ...admin, raw: 'path=x', type: 'application/x-www-form-urlencoded' })).status, 415);
  // Names are free text and no user string ever reaches a shell: stored verbatim, nothing runs.
  const evil = '$(touch /tmp/pwned); `id` | nc x 1';
  t.equal((await call('PATCH', '/api/v1/config', { ...admin, body: { path: 'system.name', value: evil } })).status, 200);
  t.equal(config.get().system.name, evil);
  t.equal((await call('PATCH', '/api/v1/config', { ...admin, body: { path: 'mqtt.baseTopic', value: 'a;rm -rf /' } })).status, 422, 'fields with a format refuse it');
  t.equal((await call('GET', '/healthz')).status, 200, 'still serving');
});

t.test('plain HTTP serves health and redirects everything else to HTTPS', async (t) => {
  const { web } = await boot();
  t.teardown(() => web.stop());
  const http = `http://127.0.0.1:${web.ports!.http}`;
  const h = await fetch(`${http}/healthz`);
  t.equal(h.status, 200);
  t.same(await h.json(), { status: 'ok', services: { running: 0, total: 0 } });
  const plain = (method: string, path: string, host: string) =>
    new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: web.ports!.http, method, path, headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
  const r = await plain('GET', '/api/v1/users?x=1', 'dvr.lan:8080');
  t.equal(r.status, 308);
  t.equal(r.location, `https://dvr.lan:${web.ports!.https}/api/v1/users?x=1`);
  const evil = await plain('GET', '/', 'evil.example/@x');
  t.equal(evil.location, `https://127.0.0.1:${web.ports!.https}/`, 'a malformed Host header is not echoed');
  t.equal((await plain('POST', '/healthz', 'dvr.lan')).status, 308, 'nothing but GET /healthz is served in clear');
});

t.test('login brute force locks the account out, and logins are audited', async (t) => {
  const { web, call } = await boot();
  t.teardown(() => web.stop());
  await call('POST', '/api/v1/setup', { body: { name: 'installer', password: ADMIN_PW } });
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push((await call('POST', '/api/v1/login', { body: { name: 'installer', password: `guess-${i}` } })).status);
  t.same(codes, [401, 401, 401, 401, 401, 429, 429]);
  const locked = await call('POST', '/api/v1/login', { body: { name: 'installer', password: ADMIN_PW } });
  t.equal(locked.status, 429, 'even the right password waits out the lockout');
  t.match(locked.headers.get('retry-after'), /^\d+$/);
});

t.test('an admin changes a setting; secrets never come back; the audit log shows it', async (t) => {
  const { web, call, config } = await boot();
  t.teardown(() => web.stop());
  await call('POST', '/api/v1/setup', { body: { name: 'installer', password: ADMIN_PW } });
  const admin = await login(call, 'installer', ADMIN_PW);
  const r = await call('PATCH', '/api/v1/config', { ...admin, body: { path: 'mqtt.password', value: 'hunter2' } });
  t.equal(r.status, 200);
  t.equal(r.json!.value, '***');
  t.equal(config.get().mqtt.password, 'hunter2');
  t.notMatch(JSON.stringify((await call('GET', '/api/v1/config', admin)).json), /hunter2/);
  const bad = await call('PATCH', '/api/v1/config', { ...admin, body: { path: 'network.httpPort', value: 0 } });
  t.equal(bad.status, 422);
  t.match(bad.json!.error.message, /httpPort: 0 is outside/);
  const audit = (await call('GET', '/api/v1/audit', admin)).json!.records as { action: string; user: string }[];
  t.same(audit.map((a) => a.action), ['setup', 'login', 'setting-changed']);
  t.notMatch(JSON.stringify(audit), /hunter2/);
  // The whole log as a file, for keeping off the box: every record, and the export itself last.
  const file = await request(web.ports!.https, web.certificate!.cert, 'GET', '/api/v1/audit/export.jsonl', { cookie: admin.cookie }, undefined);
  t.equal(file.status, 200);
  t.match(file.headers['content-disposition'], /^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.jsonl"$/);
  const exported = file.text.trim().split('\n').map((l) => JSON.parse(l) as { action: string; user: string; detail?: { what?: string } });
  t.same(exported.map((a) => a.action), ['setup', 'login', 'setting-changed', 'export'], 'the download holds every record');
  t.match(exported.at(-1), { action: 'export', user: 'installer', detail: { what: 'audit log' } }, 'and says who took it');
  t.notMatch(file.text, /hunter2/);
  const out = await call('POST', '/api/v1/logout', admin);
  t.equal(out.status, 204);
  t.equal((await call('GET', '/api/v1/me', admin)).status, 401, 'the session is gone after logout');
});
