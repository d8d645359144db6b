import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VERSION } from '../../firmware/config/schema.js';
import { dvr, freePort, health, startFirmware, waitFor } from '../helpers/firmware.js';

/** One RTSP request on a fresh connection; the reply's head. */
function rtspAsk(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let got = '';
    s.setTimeout(5000, () => s.destroy(new Error('no RTSP reply within 5 s')));
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

/** A fresh var directory whose firmware listens on a free loopback port. */
async function prepared() {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  const port = await freePort();
  const common = ['--board', 'sim', '--var', varDir];
  const httpsPort = await freePort();
  const rtspPort = await freePort();
  for (const [k, v] of [['network.httpPort', String(port)], ['network.httpsPort', String(httpsPort)], ['network.rtspPort', String(rtspPort)], ['network.bindAddress', '127.0.0.1']] as const) {
    const r = await dvr(['config', 'set', k, v, ...common]);
    if (r.code !== 0) throw new Error(`config set failed: ${r.stderr}`);
  }
  return { varDir, port, rtspPort, common };
}

t.test('the firmware boots on the sim board, answers health, reports status, and stops on SIGTERM within the bound', async (t) => {
  const { varDir, port, rtspPort, common } = await prepared();
  const boundMs = 3000;
  const fw = startFirmware(common, { DVR_STOP_TIMEOUT_MS: String(boundMs) });
  t.teardown(() => void fw.child.kill('SIGKILL'));
  const h = await waitFor('health endpoint', async () => (await health(port)).status === 200 && health(port));
  t.same(h.body, { status: 'ok', services: { running: 13, total: 13 } });

  const st = await dvr(['status', '--json', ...common]);
  t.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout) as { board: string; services: { name: string; state: string }[] };
  t.equal(status.board, 'sim');
  t.same(status.services.map((s) => `${s.name}:${s.state}`).sort(), [
    'alarms:running',
    'bays:running',
    'channels:running',
    'control:running',
    'disk-monitor:running',
    'events:running',
    'linkage:running',
    'network:running',
    'ptz-bus1:running',
    'restream:running',
    'storage:running',
    'systemd:running',
    'web:running',
  ]);

  // The restream answers on its port, and only to an account (there is none yet).
  const rtsp = await rtspAsk(rtspPort, 'DESCRIBE rtsp://127.0.0.1/cam1/main RTSP/1.0\r\nCSeq: 1\r\n\r\n');
  t.match(rtsp, /^RTSP\/1\.0 401 /, 'the restream asks for credentials');
  t.match(rtsp, /WWW-Authenticate: Digest /i);

  const human = await dvr(['status', ...common]);
  t.match(human.stdout, /firmware [\d.]+ on board sim/);

  // A setting changed through the running firmware is on disk and visible offline later.
  t.equal((await dvr(['config', 'set', 'system.name', 'Shop front', ...common])).code, 0);

  const logs = await dvr(['logs', '-n', '50', ...common]);
  const records = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(records.length > 3 && records.length <= 50, 'dvr logs prints at most the newest N records');
  // Other services (the sim cameras' channels) log too: look for ours among the newest.
  t.match(records.filter((r) => r.msg === 'setting changed').at(-1), { level: 'info', svc: 'dvr', path: 'system.name' });

  const plain = await fetch(`http://127.0.0.1:${port}/anything`, { redirect: 'manual' });
  t.equal(plain.status, 308, 'plain HTTP serves nothing but health: the rest goes to HTTPS');

  const t0 = performance.now();
  fw.child.kill('SIGTERM');
  const exit = await fw.exited;
  t.equal(exit.code, 0, 'clean exit code');
  t.ok(exit.at - t0 < boundMs, `stopped in ${Math.round(exit.at - t0)} ms (bound ${boundMs} ms)`);
  t.ok(fw.logs.some((l) => l.includes('"firmware stopped"')), 'logged its stop');
  await t.rejects(health(port), 'port released');
  const after = await dvr(['config', 'get', 'system.name', ...common]);
  t.equal(after.stdout, 'Shop front\n', 'strings print plain, for scripts');
  t.equal((await dvr(['status', ...common])).code, 3, 'status says not running');
  t.ok(varDir);
});

t.test('a service that cannot start is retried while the others run, and comes up when it can', async (t) => {
  const { port, common } = await prepared();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  const status = await waitFor('web to be retrying', async () => {
    const r = await dvr(['status', '--json', ...common]);
    if (r.code !== 0) return false;
    const s = JSON.parse(r.stdout) as { services: { name: string; state: string; lastError?: string }[] };
    return s.services.find((x) => x.name === 'web')?.state === 'retrying' && s;
  });
  const web = status.services.find((s) => s.name === 'web')!;
  t.match(web.lastError, /EADDRINUSE/);
  t.equal(status.services.find((s) => s.name === 'control')!.state, 'running', 'the control socket still serves');
  t.ok(fw.logs.some((l) => l.includes('"service failed to start"') && l.includes('"web"')), 'failure logged');

  await new Promise<void>((r) => blocker.close(() => r()));
  const h = await waitFor('web to come up after the port is free', async () => (await health(port)).status === 200 && health(port));
  t.equal((h.body as { status: string }).status, 'ok');
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
});

t.test('a second firmware on the same box refuses to start, clearly', async (t) => {
  const { port, common } = await prepared();
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('first firmware', async () => (await health(port)).status === 200);
  const second = await dvr(['start', ...common]);
  t.equal(second.code, 1);
  t.match(second.stderr, /^dvr: another firmware is already running/);
  fw.child.kill('SIGTERM');
  await fw.exited;
});

t.test('the command line: one clear line and a non-zero exit for every user mistake', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  const common = ['--var', varDir];
  const cases: [string[], number, RegExp][] = [
    [['frobnicate'], 2, /^dvr: unknown command "frobnicate"/],
    [['--nope'], 2, /^dvr: Unknown option '--nope'/],
    [['config', 'set', 'network.httpPort', '99999', ...common], 1, /^dvr: network.httpPort: 99999 is outside 1..65535\n$/],
    [['config', 'set', 'system.nmae', 'x', ...common], 1, /^dvr: system.nmae: unknown setting/],
    [['config', 'get', 'no.such', ...common], 1, /^dvr: no setting "no.such"/],
    [['config', 'reset', ...common], 2, /^dvr: this replaces every setting.*--yes/],
    [['status', ...common], 3, /^dvr: the firmware is not running/],
    [['start', '--board', 'nosuch', ...common], 1, /^dvr: unknown board "nosuch" \(known: .*sim/],
    [['start', '--board', '../../etc', ...common], 1, /^dvr: invalid board name/],
    [['config', 'validate', join(varDir, 'missing.json')], 1, /no such file/],
  ];
  for (const [args, code, message] of cases) {
    const r = await dvr(args);
    t.equal(r.code, code, `exit code of dvr ${args.slice(0, 3).join(' ')}`);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('config validate, get with secrets hidden, and reset, offline', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  const common = ['--var', varDir];
  t.equal((await dvr(['config', 'set', 'mqtt.password', 'hunter2', ...common])).code, 0);
  const all = await dvr(['config', 'get', ...common]);
  t.notMatch(all.stdout, /hunter2/, 'secrets hidden by default');
  t.match((await dvr(['config', 'get', 'mqtt.password', '--show-secrets', ...common])).stdout, /hunter2/);
  const v1 = join(varDir, 'old.json');
  writeFileSync(v1, JSON.stringify({ version: 1, deviceName: 'Old', httpPort: 81, timezone: 'UTC' }));
  t.match((await dvr(['config', 'validate', v1])).stdout, new RegExp(`valid \\(version 1, migrates to ${CONFIG_VERSION}\\)`));
  const bad = join(varDir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ version: 2, network: { httpPort: 0 } }));
  const r = await dvr(['config', 'validate', bad]);
  t.equal(r.code, 1);
  t.match(r.stderr, /network.httpPort: 0 is outside/);
  t.equal((await dvr(['config', 'reset', '--yes', ...common])).code, 0);
  t.match((await dvr(['config', 'get', 'mqtt.password', '--show-secrets', ...common])).stdout, /null/);
});

t.test('a corrupt config with no good copy stops the firmware with a clear message instead of starting empty', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  writeFileSync(join(varDir, 'data', 'config', 'config.json'), '{"version": 2, "network": ');
  const r = await dvr(['start', '--var', varDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^dvr: .*config.json is not valid JSON.*dvr config reset/);
});
