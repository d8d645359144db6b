// The upgrade as a board lives it, with the built firmware: installed slots
// of dist/ whose sim profile trusts a test key, the firmware started from
// `current` as systemd would (INVOCATION_ID set), a bundle uploaded through
// the page's route, the process ending for systemd to start the new slot,
// and the next start running the new version with the old one kept.
import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../firmware/core/paths.js';
import { boxCall as call, freePort, loginWhenBack, waitFor } from '../../helpers/firmware.js';
import { chunksOf, makeUpgrader, newKey, scriptBundle, tempDir, uploadBundle } from './helpers.js';

const repo = packageRoot();

if (!existsSync(join(repo, 'dist', 'firmware', 'cli', 'dvr.js'))) t.plan(0, 'dist/ is not built: run npx tsc -p tsconfig.json');
else {
  t.setTimeout(180_000);
  t.test('an upload from the page: the firmware exits for systemd, which starts the new version', async (t) => {
    const dir = tempDir(t);
    const key = await newKey(dir);
    mkdirSync(join(repo, 'var'), { recursive: true });
    // Inside the checkout, so the slots find node_modules by walking up (as under /usr/lib/dvr).
    const root = mkdtempSync(join(repo, 'var', 'upgrade-e2e-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const [major, minor] = pkg.version.split('.').map(Number) as [number, number];
    const [v1, v2] = [`${major}.${minor + 1}.0`, `${major}.${minor + 2}.0`];
    const slotTree = async (v: string) => {
      const tree = join(dir, `tree-${v}`);
      cpSync(join(repo, 'dist'), join(tree, 'dist'), { recursive: true });
      cpSync(join(repo, 'board'), join(tree, 'board'), { recursive: true });
      const profile = join(tree, 'board', 'sim', 'profile.json');
      writeFileSync(profile, JSON.stringify({ ...JSON.parse(readFileSync(profile, 'utf8')), upgrade: { keys: [key.pub], root: join(root, 'fw') } }));
      writeFileSync(join(tree, 'package.json'), JSON.stringify({ ...pkg, version: v }));
      return scriptBundle({ tree, key: key.file, out: join(dir, `${v}.bundle`) });
    };
    // The board as it leaves the factory: version v1 installed and current.
    await makeUpgrader(root, [key.pub], { root: join(root, 'fw'), runningVersion: '0.0.1' }).upgrade(chunksOf(await slotTree(v1)));
    const next = await slotTree(v2);

    const varDir = join(root, 'var');
    const cli = join(root, 'fw', 'current', 'dist', 'firmware', 'cli', 'dvr.js');
    const common = ['--board', 'sim', '--var', varDir];
    const https = await freePort();
    const start = () => {
      const child = spawn(process.execPath, [cli, 'start', ...common], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INVOCATION_ID: 'test' } });
      const logs: string[] = [];
      child.stdout.on('data', (d) => logs.push(String(d)));
      child.stderr.on('data', (d) => logs.push(String(d)));
      t.teardown(() => void child.kill('SIGKILL'));
      return { child, logs, exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
    };
    const set = (k: string, v: string) => new Promise<void>((resolve, reject) => spawn(process.execPath, [cli, 'config', 'set', k, v, ...common], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`config set ${k}: ${c}`)))));
    for (const [k, v] of [['network.httpPort', String(await freePort())], ['network.httpsPort', String(https)], ['network.rtspPort', String(await freePort())], ['network.bindAddress', '127.0.0.1']] as const) await set(k, v);

    const first = start();
    await waitFor('the page', async () => (await call(https, 'GET', '/api/v1/setup')).status === 200, 60_000);
    const setup = await call(https, 'POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
    const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
    t.equal((await call(https, 'GET', '/api/v1/system', admin)).json.version, v1, `the box runs ${v1}`);

    const r = await uploadBundle(https, admin, next);
    t.equal(r.status, 200, `upload: ${JSON.stringify(r.json)}`);
    t.equal(r.json.installed.version, v2);
    t.equal(await first.exited, 0, 'the firmware ends its process cleanly for systemd (Restart=always) to start the new slot');
    t.ok(first.logs.some((l) => l.includes('restarting into another firmware version')), 'and says why');

    const second = start();
    const again = await loginWhenBack(https, 'installer', 'Install-Er-2026');
    t.equal((await call(https, 'GET', '/api/v1/system', again)).json.version, v2, `the new process runs ${v2}`);
    t.match((await call(https, 'GET', '/api/v1/system/upgrade', again)).json.upgrade, { running: v2, current: v2, previous: v1 }, 'with the old version kept for a rollback');
    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0);
  });
}
