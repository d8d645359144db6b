// Hostile requests against every route the box serves, taken from the router
// itself so that a route added later is covered without touching this file:
// traversal in every path parameter (and the page's files and the live and
// playback sockets), oversized, malformed, mistyped and prototype-polluting
// bodies, and shell metacharacters in every string field of every body and
// every string setting of the config. Each must be refused or stored as
// plain text; none may run anything, change what it was not asked to
// change, answer with a 500, or stop the box from serving.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Route } from '../../../firmware/web/http/router.js';
import { configSchema } from '../../../firmware/config/schema.js';
import { startWeb, INSTALLER } from './web-service.js';
import { connect } from './ws/client.js';

type Json = Record<string, any>;

interface Answer {
  status: number;
  text: string;
  json: Json | null;
  cookie: string;
}

async function boot() {
  // A probe that reaches for a camera gives up at once: these requests are about what the box does with the text.
  const { web, config, dir } = await startWeb({ onvif: { cameraTimeoutMs: 300, discoveryMs: 100 } });
  const port = web.ports!.https;
  const ca = web.certificate!.cert;
  /** One HTTPS request; `declaredLength` sends a content-length without the body behind it. An event stream is cut after its headers. */
  const send = (method: string, path: string, o: { headers?: Record<string, string>; raw?: string | Buffer; declaredLength?: number } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const headers = { ...o.headers, ...(o.declaredLength !== undefined ? { 'content-length': String(o.declaredLength) } : {}) };
      const req = request({ host: '127.0.0.1', port, method, path, headers, ca, servername: 'localhost' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        const cut = setTimeout(() => res.destroy(), 1000);
        const done = () => {
          clearTimeout(cut);
          let json: Json | null = null;
          try {
            json = text ? (JSON.parse(text) as Json) : null;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode!, text, json, cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! });
        };
        res.on('data', (d: string) => (text += d));
        res.on('end', done);
        res.on('close', done);
      });
      req.on('error', reject);
      if (o.declaredLength !== undefined) req.flushHeaders();
      else req.end(o.raw);
    });
  const setup = await send('POST', '/api/v1/setup', { headers: { 'content-type': 'application/json' }, raw: JSON.stringify(INSTALLER) });
  const session = { cookie: setup.cookie, 'x-csrf-token': setup.json!.csrf as string };
  return { web, config, dir, send, session };
}

/** Every file the box keeps (config, accounts, tokens, certificate), hashed; the audit log is left out, as refusals are audited. */
function state(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/^audit(\.\d+)?\.log$/.test(name)) h.update(`${p}\0`).update(readFileSync(p)).update('\0');
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Refused by the router itself: a dot segment or a separator inside a segment (400), or no route (404 "not found"); a handler's 404 names what it missed. */
function routerRefusal(a: Answer): boolean {
  return (a.status === 404 && a.json?.error?.message === 'not found') || (a.status === 400 && a.json?.error?.message === 'malformed path');
}

/** The uniform error every refusal carries. */
function isJsonError(a: Answer): boolean {
  return typeof a.json?.error?.code === 'string' && typeof a.json.error.message === 'string';
}

type Schema = Json;

/** A body that passes the shape of a schema (not necessarily its patterns): the baseline each hostile field is put into. */
function baseline(s: Schema): unknown {
  if (s.anyOf) return baseline((s.anyOf as Schema[]).find((x) => x.type !== 'null')!);
  if (s.oneOf) return baseline((s.oneOf as Schema[])[0]!);
  if ('const' in s) return s.const;
  if (s.enum) return (s.enum as unknown[])[0];
  switch (s.type) {
    case 'string': {
      // A value its pattern takes, so that a hostile value in another field is what the route judges.
      const fits = (x: string) => x.length >= (s.minLength ?? 0) && x.length <= (s.maxLength ?? Infinity) && (!s.pattern || new RegExp(s.pattern as string).test(x));
      return ['a', '/a', '127.0.0.1', 'rtsp://127.0.0.1/a', 'a1'].find(fits) ?? 'a';
    }
    case 'integer':
      return s.minimum ?? 1;
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => baseline(s.items as Schema));
    case 'object':
      return s.properties ? Object.fromEntries(Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => [k, baseline(v)])) : {};
    default:
      return {};
  }
}

/** The dotted paths of every free-text string in `value` as `s` describes it (enums and constants are not free text). */
function stringLeaves(s: Schema, value: unknown, path: string[] = []): string[][] {
  if (s.anyOf) {
    const inner = (s.anyOf as Schema[]).find((x) => x.type !== 'null')!;
    if (value === null) return inner.type === 'string' && !inner.enum ? [path] : [];
    return stringLeaves(inner, value, path);
  }
  if (s.oneOf) {
    // A tagged union: the variant whose constants the value carries.
    const variant = (s.oneOf as Schema[]).find((v) => Object.entries((v.properties ?? {}) as Record<string, Schema>).every(([k, p]) => !('const' in p) || (value as Json)?.[k] === p.const));
    return variant ? stringLeaves(variant, value, path) : [];
  }
  if (s.type === 'string') return s.enum ? [] : [path];
  if (s.type === 'array' && Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(s.items as Schema, v, [...path, String(i)]));
  if (s.type === 'object' && value && typeof value === 'object') {
    if (s.properties) return Object.entries(s.properties as Record<string, Schema>).flatMap(([k, p]) => stringLeaves(p, (value as Json)[k], [...path, k]));
    if (s.additionalProperties) return Object.entries(value as Json).flatMap(([k, v]) => stringLeaves(s.additionalProperties as Schema, v, [...path, k]));
  }
  return [];
}

function withLeaf(base: unknown, path: string[], v: unknown): unknown {
  const copy = structuredClone(base) as Json;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] ??= {};
  at[path.at(-1)!] = v;
  return copy;
}

const sample = (r: Route<unknown>) => r.path.replace(/:(\w+)/g, (_, name: string) => (name === 'channel' ? 'cam1' : 'a'));

t.test('traversal in every path parameter, the page files and the sockets never reaches a handler or a file', async (t) => {
  const { web, dir, send, session: headers } = await boot();
  t.teardown(() => web.stop());
  const before = state(dir);
  const traversals = ['..', '.', '%2e%2e', '%2E%2E', '..%2f..%2f..%2fetc%2fpasswd', '..%5c..%5cwindows', '%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc', 'a%00b', '%252e%252e%252fetc', '..%c0%af..%c0%afetc', 'a%2f..%2f..%2fb'];
  let tried = 0;
  for (const r of web.router!.list()) {
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    for (const p of params) {
      for (const evil of traversals) {
        const path = r.path.replace(/:(\w+)/g, (_, name: string) => (name === p ? evil : name === 'channel' ? 'cam1' : 'a'));
        const a = await send(r.method, path, { headers: { ...headers, ...(r.body ? { 'content-type': 'application/json' } : {}) }, ...(r.body ? { raw: '{}' } : {}) });
        tried++;
        if (!routerRefusal(a)) t.fail(`${r.method} ${path} reached past the router: ${a.status} ${a.text.slice(0, 200)}`);
      }
    }
  }
  t.ok(tried > 100, `${tried} traversal attempts on every route with a parameter, each refused by the router`);
  for (const path of ['/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fpackage.json', '/app.js%00.html', '/app.js/..%2f..%2f..%2fetc%2fpasswd', '//etc/passwd', '/.%2e/config/config.json', '/config/config.json', '/users.json', '/tls/key.pem']) {
    const a = await send('GET', path, { headers });
    t.ok(routerRefusal(a), `GET ${path}: ${a.status} from the router`);
    t.notMatch(a.text, /root:|BEGIN|"users"|"version"/, `GET ${path}: no file's content`);
  }
  for (const path of ['/api/v1/live/..%2f..%2fetc/main', '/api/v1/live/%2e%2e/main', '/api/v1/live/cam1/..%2fmain', '/api/v1/live/../v1/live/cam1/main', '/api/v1/playback/..%2f..%2fetc?from=now', '/api/v1/playback/%2e%2e?from=now']) {
    const ws = await connect(web.ports!.https, web.certificate!.cert, path, { cookie: headers.cookie });
    t.ok(ws.refused && (ws.status === 404 || ws.status === 400), `socket ${path}: refused before the handshake (${ws.refused ? ws.status : 101})`);
  }
  t.equal(state(dir), before, 'no file of the box changed');
  t.equal((await send('GET', '/healthz')).status, 200, 'still serving');
});

t.test('oversized, malformed, mistyped and polluting bodies on every route that takes one', async (t) => {
  const { web, dir, send, session: headers } = await boot();
  t.teardown(() => web.stop());
  const before = state(dir);
  // The setup route answers 409 to anything once the admin exists (api.test.ts covers it at first boot).
  const routes = web.router!.list().filter((r) => (r.body || r.stream) && r.access !== 'setup');
  t.ok(routes.length > 15, `${routes.length} routes take a body`);
  for (const r of routes) {
    const path = sample(r);
    const name = `${r.method} ${r.path}`;
    const max = r.stream?.maxBytes ?? r.maxBodyBytes ?? 64 * 1024;
    const big = await send(r.method, path, { headers: { ...headers, 'content-type': r.stream?.contentType ?? 'application/json' }, declaredLength: max + 1 });
    t.equal(big.status, 413, `${name}: a declared ${max + 1}-byte body → 413 before it is read`);
    if (r.stream) continue;
    const json = { ...headers, 'content-type': 'application/json' };
    const over = await send(r.method, path, { headers: { ...headers, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, raw: Buffer.alloc(max + 1, 0x20) });
    t.equal(over.status, 413, `${name}: ${max + 1} bytes sent without a length → 413`);
    const cases: [string, Record<string, string>, string, number][] = [
      ['cut-off JSON', json, '{"name": ', 400],
      ['not JSON at all', json, '\u0000\u00ff<xml/>', 400],
      ['nested 20000 deep', json, '['.repeat(20_000) + ']'.repeat(20_000), 40_000 > max ? 413 : 400],
      ['a form instead of JSON', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, 'name=a&password=b', 415],
      ['no content type', headers, '{}', 415],
      ['an array', json, '[]', 422],
      ['a string', json, '"x"', 422],
      ['null', json, 'null', 422],
      ['a prototype-polluting object', json, '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}', 422],
    ];
    for (const [what, h, raw, want] of cases) {
      const a = await send(r.method, path, { headers: h, raw });
      // The MQTT test takes any part of the settings, the rest being the saved ones: a body of no setting tries those.
      if (r.path === '/api/v1/mqtt/test' && what === 'a prototype-polluting object') t.ok(a.status < 500, `${name}: ${what} → ${a.status}`);
      else t.equal(a.status, want, `${name}: ${what} → ${want}`);
      t.ok(a.status === 200 || isJsonError(a), `${name}: ${what}: the uniform JSON error`);
    }
  }
  t.equal(({} as Json).polluted, undefined, 'no object prototype was polluted');
  t.equal(state(dir), before, 'no file of the box changed');
  t.equal((await send('GET', '/healthz')).status, 200, 'still serving');
});

t.test('shell metacharacters in every string field of every body, every query and every setting run nothing', async (t) => {
  const { web, config, dir, send, session } = await boot();
  t.teardown(() => web.stop());
  const marker = join(dir, 'pwned');
  const payloads = [`$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker} | touch ${marker} && touch ${marker}\ntouch ${marker} #'"`];
  const json = { ...session, 'content-type': 'application/json' };
  // A setting of every kind whose strings could one day be handed to a tool: a camera, an analog input, alarms, PTZ, a rule.
  await config.set('channels', [{ id: 'cam1', name: 'Front', main: { url: 'rtsp://127.0.0.1:1/x' }, sub: { url: 'rtsp://127.0.0.1:1/y' }, username: 'u', password: 'p', onvif: { host: '127.0.0.1' } }]);
  await config.set('dvrChannels', [{ id: 'an1', name: 'Analog', device: '/dev/video0' }]);
  await config.set('alarms.inputs', [{ input: 'in1', name: 'Door' }]);
  await config.set('alarms.relays', [{ relay: 'out1' }]);
  await config.set('ptz.domes', [{ id: 'dome1', name: 'Dome', bus: 'rs485', address: 1, presets: [{ number: 1, name: 'Gate' }] }]);

  let accepted = 0;
  let refused = 0;
  let st = state(dir);
  const judge = async (name: string, a: Answer, stored?: () => unknown, payload?: string) => {
    t.not(a.status, 500, `${name}: not a 500 (${a.text.slice(0, 120)})`);
    if (a.status >= 400) {
      refused++;
      if (!isJsonError(a)) t.fail(`${name}: ${a.status} without the uniform JSON error`);
      const now = state(dir);
      if (now !== st) t.fail(`${name}: refused (${a.status}) yet a file of the box changed`);
    } else {
      accepted++;
      if (stored) t.equal(stored(), payload, `${name}: kept as plain text`);
      st = state(dir);
    }
  };

  // Every setting that holds text, through the same validation as `dvr config set`.
  const schema = configSchema.toJsonSchema() as Schema;
  const settings = stringLeaves(schema, config.get()).map((p) => p.join('.'));
  t.ok(settings.length >= 25, `${settings.length} string settings`);
  for (const path of settings) {
    for (const p of payloads) {
      const a = await send('PATCH', '/api/v1/config', { headers: json, raw: JSON.stringify({ path, value: p }) });
      await judge(`PATCH ${path}`, a, () => config.getPath(path), p);
    }
  }
  // A whole backup with one hostile string at a time.
  for (const path of settings) {
    const a = await send('POST', '/api/v1/system/restore', { headers: json, raw: JSON.stringify(withLeaf(config.get(), path.split('.'), payloads[0])) });
    await judge(`restore with ${path}`, a, () => config.getPath(path), payloads[0]);
  }
  // The MQTT test tries what it is given: each of its strings hostile.
  for (const path of stringLeaves(schema.properties.mqtt as Schema, config.get().mqtt)) {
    const a = await send('POST', '/api/v1/mqtt/test', { headers: json, raw: JSON.stringify(withLeaf({}, path, payloads[2])) });
    await judge(`mqtt test with ${path.join('.')}`, a);
  }
  // Every other route's body, one string field at a time.
  let fields = 0;
  for (const r of web.router!.list().filter((x) => x.body && x.path !== '/api/v1/config')) {
    const s = r.body!.toJsonSchema() as Schema;
    if (!s.type && !s.anyOf && !s.oneOf) continue; // free JSON: the config, restore and MQTT bodies above
    const base = baseline(s);
    for (const leaf of stringLeaves(s, base)) {
      fields++;
      for (const p of payloads) {
        const a = await send(r.method, sample(r), { headers: json, raw: JSON.stringify(withLeaf(base, leaf, p)) });
        await judge(`${r.method} ${r.path} ${leaf.join('.')}`, a);
      }
    }
  }
  t.ok(fields >= 15, `${fields} string fields of route bodies`);
  // Every GET with hostile query parameters and hostile path parameters.
  const q = new URLSearchParams(Object.fromEntries(['from', 'to', 'n', 'channel', 'type', 'limit', 'allowDowngrade'].map((k) => [k, payloads[2]!])));
  for (const r of web.router!.list().filter((x) => x.method === 'GET' && x.path.startsWith('/api/'))) {
    const a = await send('GET', `${sample(r)}?${q}`, { headers: { cookie: session.cookie } });
    await judge(`GET ${r.path}?<hostile>`, a);
  }
  for (const r of web.router!.list().filter((x) => x.path.includes(':'))) {
    const a = await send(r.method, r.path.replace(/:(\w+)/g, encodeURIComponent(payloads[0]!)), { headers: json, ...(r.body ? { raw: '{}' } : {}) });
    t.ok(routerRefusal(a), `${r.method} ${r.path} with shell text as its parameter: ${a.status} from the router`);
  }
  t.comment(`${accepted} hostile strings stored as text, ${refused} refused`);
  t.ok(accepted > 0 && refused > 0, 'some were plain text the box keeps, others were refused by their format');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(existsSync(marker), 'no hostile string ran a command');
  t.equal((await send('GET', '/healthz')).status, 200, 'still serving');
});
