// Every route says what it answers on success (the OpenAPI document's
// responses come from it), and what it answers is what it says: a box on
// the sim board's config, with a recording store, event journal, PTZ dome,
// snapshots, upgrader and page behind it, is called on every GET route as
// the admin, and each reply is checked against its route's declared
// response with the schema's own check() (unknown fields refused). So is a
// run of the calls an installer makes that change state, on this throwaway box.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { EventJournal } from '../../../firmware/events/journal.js';
import { h264Config } from '../../../firmware/media/rtp/codec-config.js';
import { PtzDirectory } from '../../../firmware/ptz/index.js';
import { isoTime } from '../../../firmware/recordings/times.js';
import { openApiDocument } from '../../../firmware/web/api/openapi.js';
import type { Route } from '../../../firmware/web/http/router.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { ptyPair } from '../../fixtures/ptz-dome-sim.js';
import { H264_SPROP } from '../../../scripts/bench/fuzz-rtsp-rtp.js';
import { frame } from '../storage/helpers.js';
import { makeUpgrader } from '../upgrade/helpers.js';
import { diskStore } from './disk-store.js';
import { INSTALLER, startWeb } from './web-service.js';

interface Answer {
  status: number;
  type: string;
  body: Buffer;
  cookie: string;
}

/**
 * What is wrong with a reply against the route's declared response; empty
 * when it is what the route says. JSON is checked with the schema's check(),
 * which refuses unknown fields and names each path that differs.
 */
function judge(route: Route<unknown>, a: Answer): string[] {
  const ok = route.response;
  if (!ok) return ['the route declares no response'];
  const issues: string[] = [];
  const type = a.type.split(';')[0]!.trim();
  const parsed = (what: string) => {
    try {
      return JSON.parse(a.body.toString('utf8')) as unknown;
    } catch {
      issues.push(`${what} is not JSON: ${a.body.toString('utf8').slice(0, 120)}`);
      return undefined;
    }
  };
  if ('file' in ok) {
    if (a.status !== 200) return [`status ${a.status} (${a.body.toString('utf8').slice(0, 200)}), declared 200`];
    if (type !== ok.file.split(';')[0]!.trim()) issues.push(`content type ${a.type}, declared ${ok.file}`);
    if (type === 'application/x-ndjson') {
      for (const line of a.body.toString('utf8').split('\n').filter(Boolean)) {
        try {
          JSON.parse(line);
        } catch {
          issues.push(`a line is not JSON: ${line.slice(0, 120)}`);
        }
      }
    }
    if (ok.json) {
      const body = parsed('the file');
      if (body !== undefined) ok.json.check(body, '', issues);
    }
    return issues;
  }
  const statuses = ok.status === 204 ? [204] : [ok.status ?? 200, ...(ok.also ?? [])];
  if (!statuses.includes(a.status)) return [`status ${a.status} (${a.body.toString('utf8').slice(0, 200)}), declared ${statuses.join(' or ')}`];
  if (ok.status === 204) return a.body.length ? [`a body with 204: ${a.body.toString('utf8').slice(0, 120)}`] : [];
  if (type !== 'application/json') issues.push(`content type ${a.type}, declared application/json`);
  const body = parsed('the body');
  if (body !== undefined) ok.json.check(body, '', issues);
  return issues;
}

t.test('every route declares its success response, and the OpenAPI document gives it under its real status', async (t) => {
  const { web } = await startWeb();
  t.teardown(() => web.stop());
  const routes = web.router!.list();
  t.ok(routes.length > 40, `${routes.length} routes`);
  const doc = openApiDocument(routes, 'test');
  type Documented = { description?: string; content?: Record<string, { schema?: unknown }> };
  for (const r of routes) {
    const ok = r.response;
    const problems: string[] = [];
    const responses = (doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]![r.method.toLowerCase()] as { responses: Record<string, Documented> }).responses;
    const status = !ok ? '2XX' : 'file' in ok ? '200' : String(ok.status ?? 200);
    const documented = responses[status];
    if (!ok) problems.push('no response declared: add `response` to the route');
    else if (typeof documented?.description !== 'string') problems.push(`no ${status} response in the document`);
    else if ('file' in ok) {
      if (Object.keys(documented.content ?? {}).join() !== ok.file) problems.push(`documented as ${Object.keys(documented.content ?? {}).join()}, declared ${ok.file}`);
    } else if (ok.status === 204) {
      if (documented.content) problems.push('a 204 documented with a body');
    } else if (JSON.stringify(documented.content?.['application/json']?.schema) !== JSON.stringify(ok.json.toJsonSchema())) problems.push('the documented schema is not the declared one');
    if (JSON.stringify(responses.default) !== JSON.stringify({ description: 'every refusal and failure, in one shape', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } })) problems.push('errors not in their one shape');
    t.same(problems, [], `${r.method} ${r.path}: ${status} documented as declared`);
  }
  t.match(doc.paths['/healthz']!.get, { responses: { '200': { content: { 'application/json': {} } }, '503': { content: { 'application/json': {} } } } }, 'health documents its degraded 503 too');
  t.match(doc.paths['/api/v1/config']!.get, { responses: { '200': { content: { 'application/json': { schema: { properties: { config: { properties: { mqtt: { properties: { password: {} } } } } } } } } } } }, 'the config is described by its own schema');
  t.match(doc.paths['/api/v1/system/backup']!.get, { responses: { '200': { content: { 'application/json': { schema: { properties: { version: {} } } } } } } }, 'a JSON download has its schema');
  t.match(doc.paths['/api/v1/recordings/{channel}/export.mp4']!.get, { responses: { '200': { content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } } } } } });

  // The check is strict: a field the schema lacks, or a wrong status, is a finding.
  const me = routes.find((r) => r.path === '/api/v1/me')!;
  const reply = (status: number, body: unknown): Answer => ({ status, type: 'application/json', body: Buffer.from(JSON.stringify(body)), cookie: '' });
  const account = { name: 'installer', role: 'admin', channels: null, created: 1, passwordChanged: 1 };
  t.same(judge(me, reply(200, { account, csrf: 'x' })), [], 'the reply as declared');
  t.match(judge(me, reply(200, { account: { ...account, hash: 'h' }, csrf: 'x' })), [/account\.hash: unknown/], 'an undeclared field is refused');
  t.match(judge(me, reply(201, { account, csrf: 'x' })), [/status 201 .*declared 200/], 'so is another status');
});

t.test("every GET route answers what it declares, on a box with the sim board's config", async (t) => {
  const fixtures = mkdtempSync(join(tmpdir(), 'responses-'));
  t.teardown(() => rmSync(fixtures, { recursive: true, force: true }));
  const board = loadBoardProfile('sim', join(fixtures, 'var'));

  // The recording store of two directory bays, with a few seconds of the sim board's first camera and an evidence lock.
  const disks = await diskStore();
  t.teardown(() => disks.stop());
  const channels = (board.configDefaults as { channels: { id: string }[] }).channels;
  const channel = channels[0]!.id;
  const t0 = Date.now() * 1000 - 60e6;
  const [sps, pps] = H264_SPROP.split(',').map((b) => new Uint8Array(Buffer.from(b, 'base64'))) as [Uint8Array, Uint8Array];
  disks.store.setStreamInfo(channel, 'main', { codec: 'h264', ...h264Config(sps, pps) });
  for (let i = 0; i < 50; i++) {
    // One length-prefixed NAL unit a frame (IDR or not), as the exporter takes them.
    const f = frame(channel, i, t0, { size: 1500 });
    const nal = Buffer.concat([Buffer.from([f.keyframe ? 0x65 : 0x41]), f.data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(nal.length);
    disks.store.append(channel, 'main', { ...f, data: Buffer.concat([length, nal]) });
  }
  await disks.store.flush();
  await disks.store.closeStream(channel, 'main');
  disks.store.lock({ channel, start: t0, end: t0 + 1e6, reason: 'incident 42', expiresMs: Date.now() + 3_600_000 });

  const bus = new EventBus();
  const events = new EventJournal({ bus, clock: systemClock, log: memoryLogger('events'), dir: fixtures });
  await events.start();
  t.teardown(() => events.stop());

  const key = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const upgrader = makeUpgrader(fixtures, [key]);
  const page = join(fixtures, 'page');
  mkdirSync(page);
  for (const [name, text] of [['index.html', '<!doctype html><title>DVR</title>'], ['app.js', 'export {};'], ['app.css', 'body{}']]) writeFileSync(join(page, name), text);
  const cam = new OnvifCameraSim({ streams: { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } } });
  await cam.start();
  t.teardown(() => cam.stop());

  let ptz: PtzDirectory | undefined;
  const log = memoryLogger('web');
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);
  const { web, config } = await startWeb({
    log,
    logs: () => log.ring.tail(),
    version: '1.0.0',
    board: board.name,
    store: () => disks.store,
    disks: () => disks.disks,
    events: () => events,
    ptz: () => ptz,
    snapshots: () => ({ take: async () => ({ jpeg, at: Date.now() }) }),
    upgrader: () => upgrader,
    onvif: { target: { address: '127.0.0.1', port: cam.discoveryPort! }, discoveryMs: 300, cameraTimeoutMs: 2000 },
    pageDir: page,
  });
  t.teardown(() => web.stop());
  await config.replace({ version: CONFIG_VERSION, ...(board.configDefaults as object) });
  // Night arming of the sim door: a schedule is among the deepest settings (alarms.inputs[].schedule[].days[]).
  await config.set('alarms.inputs', config.get().alarms.inputs.map((i) => ({ ...i, schedule: [{ days: ['mon', 'tue'], from: '22:00', to: '06:00' }] })));

  // The sim board's dome on its RS-485 line (a pty pair standing in for the bus).
  const pair = await ptyPair();
  t.teardown(() => pair.close());
  ptz = new PtzDirectory(config.get().ptz, [{ name: config.get().ptz.domes[0]!.bus, port: pair.a, direction: 'none' }], { clock: systemClock, log: memoryLogger('ptz'), config });
  for (const s of ptz.services) await s.start();
  t.teardown(async () => {
    for (const s of [...(ptz?.services ?? [])].reverse()) await s.stop();
  });

  // A few entries in the event journal: a camera, motion, the sim door, a disk.
  bus.emit('cameraState', { channel, state: 'streaming', at: Date.now() });
  bus.emit('motion', { channel, active: true, at: Date.now(), cells: 3 });
  bus.emit('alarm', { source: 'io1', input: 'io1.in1', active: true, at: Date.now() });
  bus.emit('diskState', { disk: disks.holding, state: 'ok', previous: 'missing', at: Date.now(), detail: 'back' });

  const routes = web.router!.list();
  const routeOf = (method: string, path: string) => routes.find((r) => r.method === method && r.path === path)!;
  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown, stream = false) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: web.ports!.https, path, method, ca: web.certificate!.cert, servername: 'localhost', headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          const done = () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! });
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            // A stream that never ends: its first event is enough.
            if (stream) {
              done();
              req.destroy();
            }
          });
          res.on('end', done);
        },
      );
      req.on('error', (e) => (stream ? undefined : reject(e)));
      req.end(body !== undefined ? JSON.stringify(body) : undefined);
    });
  /** Calls a route and checks its reply against the route's response; returns the reply's JSON (or null). */
  const expect = async (method: string, pattern: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const route = routeOf(method, pattern);
    const a = await call(method, path, headers, body, route.response !== undefined && 'file' in route.response && route.response.file === 'text/event-stream');
    t.same(judge(route, a), [], `${method} ${pattern} answers what it declares (${a.status} ${a.type})`);
    return { answer: a, json: a.type.startsWith('application/json') && a.body.length ? (JSON.parse(a.body.toString('utf8')) as any) : null };
  };

  // The calls that change state on the way: setup, login, a second account, a token, a lock.
  const setup = await expect('POST', '/api/v1/setup', '/api/v1/setup', {}, INSTALLER);
  const admin = { cookie: setup.answer.cookie, 'x-csrf-token': setup.json.csrf as string };
  await expect('POST', '/api/v1/login', '/api/v1/login', {}, INSTALLER);
  await expect('POST', '/api/v1/users', '/api/v1/users', admin, { name: 'guard', password: 'Night-Shift-77', role: 'viewer', channels: { [channel]: ['live'] } });
  await expect('PATCH', '/api/v1/users/:name', '/api/v1/users/guard', admin, { role: 'operator', channels: null });
  await expect('POST', '/api/v1/tokens', '/api/v1/tokens', admin, { label: 'Home Assistant' });
  const iso = (us: number) => encodeURIComponent(isoTime(us));
  const range = `from=${iso(t0 - 10e6)}&to=${iso(t0 + 10e6)}`;
  const lock = await expect('POST', '/api/v1/recordings/:channel/locks', `/api/v1/recordings/${channel}/locks`, admin, { from: isoTime(t0), to: isoTime(t0 + 2e6), reason: 'kept' });
  await expect('PATCH', '/api/v1/config', '/api/v1/config', admin, { path: 'mqtt.password', value: 'hunter2' });

  // Every GET route, its path parameters from the sim board's config and the store.
  const dome = config.get().ptz.domes[0]!;
  const params: Record<string, string> = { channel, bay: disks.holding };
  const query: Record<string, string> = { '/api/v1/recordings/:channel': range, '/api/v1/recordings/:channel/export.mp4': range };
  const pathParams: Record<string, Record<string, string>> = { '/api/v1/channels/:channel/ptz': { channel: dome.channel ?? channel } };
  const skipped: string[] = [];
  for (const r of routes.filter((x) => x.method === 'GET')) {
    const values = { ...params, ...pathParams[r.path] };
    const missing = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!).filter((p) => values[p] === undefined);
    if (missing.length) {
      // A route with a parameter this box has nothing for: said, not failed (its declaration is still checked above).
      skipped.push(r.path);
      t.comment(`skipped GET ${r.path}: no value for :${missing.join(', :')} on this box; add one to params above`);
      continue;
    }
    const path = r.path.replace(/:(\w+)/g, (_, p: string) => values[p]!) + (query[r.path] ? `?${query[r.path]}` : '');
    await expect('GET', r.path, path, admin);
  }
  t.ok(routes.filter((x) => x.method === 'GET').length - skipped.length >= 28, `the GET routes were called (skipped: ${skipped.join(', ') || 'none'})`);

  // The rest of what an installer does from the page, each reply against its declaration.
  await expect('POST', '/api/v1/disks/:bay/check', `/api/v1/disks/${disks.holding}/check`, admin);
  await expect('POST', '/api/v1/disks/:bay/format', `/api/v1/disks/${disks.empty}/format`, admin, { confirm: disks.empty, force: true });
  await expect('POST', '/api/v1/mqtt/test', '/api/v1/mqtt/test', admin, { url: 'mqtt://127.0.0.1:1' });
  await expect('POST', '/api/v1/onvif/discover', '/api/v1/onvif/discover', admin);
  await expect('POST', '/api/v1/onvif/probe', '/api/v1/onvif/probe', admin, { host: '127.0.0.1', port: cam.port, username: cam.username, password: cam.password });
  const backup = await call('GET', '/api/v1/system/backup', admin);
  await expect('POST', '/api/v1/system/restore', '/api/v1/system/restore', admin, JSON.parse(backup.body.toString('utf8')));
  await expect('DELETE', '/api/v1/recordings/:channel/locks/:id', `/api/v1/recordings/${channel}/locks/${lock.json.lock.id}`, admin);
  await expect('DELETE', '/api/v1/users/:name', '/api/v1/users/guard', admin);
  await expect('POST', '/api/v1/logout', '/api/v1/logout', admin);
});
