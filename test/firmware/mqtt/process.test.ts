import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, retained, Watcher } from './broker.js';
import { assertComplete, child, firstCopies, ROOT } from './harness.js';
import { waitFor } from '../../helpers/firmware.js';

// Each child is a fresh Node process with the TypeScript loader: slow to start on a loaded machine.
const START_MS = 60_000;

t.test('a killed firmware is marked offline by its last will', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const c = child(broker.url, mkdtempSync(join(tmpdir(), 'mqtt-data-')));
  t.teardown(() => void c.proc.kill('SIGKILL'));
  await waitFor('online', async () => (await retained(broker.url, `${ROOT}/availability`)) === 'online', START_MS);
  c.proc.kill('SIGKILL');
  await c.exited;
  await waitFor('offline by last will', async () => (await retained(broker.url, `${ROOT}/availability`)) === 'offline', 5000);
  t.pass('availability offline after kill -9');
});

t.test('events queued while the broker is down survive a restart of the firmware process', async (t) => {
  const broker = await Broker.start();
  await broker.stop(); // down from the start; same port later
  t.teardown(() => broker.stop());
  const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-data-'));
  const first = child(broker.url, dataDir);
  t.teardown(() => void first.proc.kill('SIGKILL'));
  await waitFor('first process started', async () => first.out.includes('STARTED'), START_MS);
  const firstAt = Date.UTC(2026, 10, 3);
  first.send(`alarm 500 ${firstAt}`);
  await waitFor('emitted', async () => first.out.includes('EMITTED 500'));
  await new Promise((r) => setTimeout(r, 400)); // past the 100 ms fsync batch
  first.proc.kill('SIGKILL');
  await first.exited;

  await broker.start();
  const w = await Watcher.connect(broker.url, [`${ROOT}/events`]);
  t.teardown(() => w.close());
  const second = child(broker.url, dataDir);
  t.teardown(() => void second.proc.kill('SIGKILL'));
  await waitFor('the 500 alarms of the killed process', async () => firstCopies(w).events.length >= 500, START_MS);
  assertComplete(t, firstCopies(w), firstAt, 500);
  t.ok(second.out.some((l) => /offline queue recovered/.test(l) && /"recovered":500/.test(l)), 'recovery logged');
  // Asked until the last acknowledgements are in: the subscriber may see an event before its PUBACK is back.
  const status = await waitFor('status with an empty queue', async () => {
    second.send('status');
    return second.out.find((l) => l.startsWith('STATUS ') && /"queued":0/.test(l));
  });
  t.match(JSON.parse(status.slice(7)), { connected: true, queued: 0 });
  const state = JSON.parse((await retained(broker.url, `${ROOT}/alarm/in1/state`))!) as { at: number };
  t.equal(state.at, firstAt + 499, 'the retained state is the last alarm');
});
