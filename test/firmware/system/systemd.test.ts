import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dvr, freePort, health, startFirmware, waitFor } from '../../helpers/firmware.js';

t.test('under systemd the firmware says READY, pings the watchdog, and says STOPPING', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-sd-'));
  const sock = join(varDir, 'notify.sock');
  // socat stands in for systemd's notify socket: it prints every datagram it receives.
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${sock}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void receiver.kill());
  let got = '';
  receiver.stdout.on('data', (d) => (got += d));
  const port = await freePort();
  const common = ['--var', varDir];
  await dvr(['config', 'set', 'network.httpPort', String(port), ...common]);
  await dvr(['config', 'set', 'network.httpsPort', String(await freePort()), ...common]);
  await dvr(['config', 'set', 'network.rtspPort', String(await freePort()), ...common]);
  await waitFor('notify socket', async () => (await import('node:fs')).existsSync(sock));
  const fw = startFirmware(common, { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' });
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('READY=1', async () => got.includes('READY=1'));
  t.ok((await health(port)).status === 200, 'serving when READY was sent');
  t.match(got, /STATUS=running \d+ services/, 'STATUS= says every service runs');
  await waitFor('two watchdog pings', async () => (got.match(/WATCHDOG=1/g) ?? []).length >= 2, 3000);
  t.pass('WATCHDOG=1 sent every 200 ms (half of WATCHDOG_USEC)');
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
  await waitFor('STOPPING=1', async () => got.includes('STOPPING=1'), 2000);
  t.pass('STOPPING=1 sent on shutdown');
});
