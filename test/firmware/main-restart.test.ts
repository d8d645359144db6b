// Restart and factory reset from the page, on the sim board: the firmware
// process stays, stops every service and starts again from its files.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boxCall as call, dvr, freePort, health, loginWhenBack, startFirmware, waitFor } from '../helpers/firmware.js';

t.test('restart from the page: the same settings come back; factory reset: first boot again where the installer can reach it', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  const common = ['--board', 'sim', '--var', varDir];
  const port = await freePort();
  const https = await freePort();
  for (const [k, v] of [['network.httpPort', String(port)], ['network.httpsPort', String(https)], ['network.rtspPort', String(await freePort())], ['network.bindAddress', '127.0.0.1'], ['system.name', 'Shop front']] as const) {
    const r = await dvr(['config', 'set', k, v, ...common]);
    if (r.code !== 0) throw new Error(`config set failed: ${r.stderr}`);
  }
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('the page', async () => (await call(https, 'GET', '/api/v1/setup')).status === 200, 60_000);
  const setup = await call(https, 'POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  t.equal(setup.status, 201);
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  const before = (await call(https, 'GET', '/api/v1/system', admin)).json as { uptimeS: number };

  await new Promise((r) => setTimeout(r, 2000));
  const r = await call(https, 'POST', '/api/v1/system/restart', admin, { confirm: 'restart' });
  t.equal(r.status, 202, 'restart accepted');
  await waitFor('the firmware to say it restarts', async () => fw.logs.some((l) => l.includes('restarting the firmware')), 10_000);
  // Sessions live in memory: the restarted firmware asks for a login again.
  const again = await loginWhenBack(https, 'installer', 'Install-Er-2026');
  const sys = (await call(https, 'GET', '/api/v1/system', again)).json as { uptimeS: number; name: string };
  t.ok(sys.uptimeS < before.uptimeS + 2, `a new firmware runs (uptime ${sys.uptimeS} s, was ${before.uptimeS} s before the wait)`);
  t.equal(sys.name, 'Shop front', 'with the same settings');
  t.equal(fw.child.exitCode, null, 'in the same process');
  t.equal((await health(port)).status, 200, 'and healthy');
  t.equal((await dvr(['status', ...common])).code, 0, 'the control socket answers again');

  const reset = await call(https, 'POST', '/api/v1/system/factory-reset', again, { confirm: 'factory reset', password: 'Install-Er-2026' });
  t.equal(reset.status, 202, 'factory reset accepted');
  await waitFor('first boot again', async () => (await call(https, 'GET', '/api/v1/setup').catch(() => null))?.json?.setupNeeded === true, 60_000).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${fw.logs.slice(-20).join('\n')}`);
  });
  t.pass('the page asks for a new admin account');
  const name = await dvr(['config', 'get', 'system.name', ...common]);
  t.not(name.stdout.trim(), 'Shop front', 'the settings are the factory ones');
  t.equal((await dvr(['config', 'get', 'network.httpsPort', ...common])).stdout.trim(), String(https), 'but the network settings were kept');
  t.equal(fw.child.exitCode, null, 'the firmware restarted in place');
});
