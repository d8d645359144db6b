import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, retained, Watcher } from './broker.js';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';

t.test('with mqtt.enabled the firmware runs the mqtt service: online, service states published, offline on SIGTERM', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  const common = ['--board', 'sim', '--var', varDir];
  // Written as a file rather than by five `dvr config set` runs: each is a Node start.
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  const config = {
    version: CONFIG_VERSION,
    system: { name: 'Yard Gate' },
    network: { httpPort: await freePort(), httpsPort: await freePort(), bindAddress: '127.0.0.1' },
    mqtt: { enabled: true, url: broker.url },
  };
  writeFileSync(join(varDir, 'data', 'config', 'config.json'), JSON.stringify(config));
  const w = await Watcher.connect(broker.url, ['dvr/yard_gate/#']);
  t.teardown(() => w.close());
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('online', async () => w.on('dvr/yard_gate/availability').some((s) => s.text === 'online'), 60_000);
  const st = JSON.parse((await dvr(['status', '--json', ...common])).stdout) as { services: { name: string; state: string }[] };
  t.match(st.services.find((s) => s.name === 'mqtt'), { state: 'running' });
  // The supervisor's serviceState events after the mqtt service started reach the broker.
  await waitFor('systemd service state', async () => (await retained(broker.url, 'dvr/yard_gate/service/systemd/state'))?.includes('"running"'));
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
  t.equal(await retained(broker.url, 'dvr/yard_gate/availability'), 'offline', 'a clean stop says offline');
});
