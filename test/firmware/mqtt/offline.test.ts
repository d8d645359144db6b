import t from 'tap';
import { Broker, Watcher } from './broker.js';
import { assertComplete, firstCopies, makeService, ROOT } from './harness.js';
import { waitFor } from '../../helpers/firmware.js';

t.test('broker restart in the middle of an alarm storm: every alarm arrives, in order, none twice as new', async (t) => {
  const broker = await Broker.start({ persistence: true });
  t.teardown(() => broker.stop());
  // A subscriber with a persistent session, as a real consumer would use for alarms.
  const w = await Watcher.connect(broker.url, [`${ROOT}/events`], { clean: false, clientId: 'storm-watcher', properties: { sessionExpiryInterval: 3600 } });
  t.teardown(() => w.close());
  const { svc, bus } = makeService(broker.url);
  await svc.start();
  t.teardown(() => svc.stop());
  await waitFor('connected', async () => svc.status().connected);

  const firstAt = Date.UTC(2026, 10, 2);
  const total = 2000;
  let n = 0;
  const emit = (k: number) => {
    for (const end = Math.min(total, n + k); n < end; n++) bus.emit('alarm', { source: 'gpio', input: 'in1', active: n % 2 === 0, at: firstAt + n });
  };
  const tick = () => new Promise((r) => setTimeout(r, 5));
  while (n < 600) {
    emit(20);
    await tick();
  }
  const stopping = broker.stop();
  while (n < 900) {
    emit(20);
    await tick();
  }
  await stopping;
  // The broker's process has exited, but the client learns of it only when its socket's close
  // event is processed: on a loaded machine that can come a few ticks later. Keep raising alarms meanwhile.
  const goneBy = Date.now() + 10_000;
  while (svc.status().connected && Date.now() < goneBy) {
    emit(5);
    await tick();
  }
  t.notOk(svc.status().connected, 'the service saw the broker go');
  while (n < 1500) {
    emit(50);
    await tick();
  }
  const starting = broker.start();
  while (n < total) {
    emit(20);
    await tick();
  }
  await starting;
  await waitFor('every alarm at the subscriber', async () => firstCopies(w).events.length >= total, 30_000);
  await waitFor('queue drained', async () => svc.status().queued === 0);
  assertComplete(t, firstCopies(w), firstAt, total);
  t.comment(`redelivered copies (same id) seen by the subscriber: ${firstCopies(w).repeats}`);
  t.equal(svc.status().dropped, 0);
});

