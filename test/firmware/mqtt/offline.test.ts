import t from 'tap';
import { Broker, retained, Watcher } from './broker.js';
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


t.test('a broker restarted without persistence gets everything retained again: availability, discovery, states', async (t) => {
  // No persistence: the restarted broker has forgotten every retained message, so what a
  // fresh subscriber (Home Assistant reconnecting) finds afterwards was published again.
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc, bus } = makeService(broker.url);
  for (const e of [{ kind: 'alarmInput', input: 'in1' }, { kind: 'relay', relay: 'relay1' }, { kind: 'armed' }] as const) svc.registerEntity(e);
  await svc.start();
  t.teardown(() => svc.stop());
  await waitFor('connected', async () => svc.status().connected);
  const at = Date.UTC(2026, 10, 4);
  bus.emit('alarm', { source: 'gpio', input: 'in1', active: true, at });
  svc.reportRelay('relay1', true);
  svc.reportArmed(true);
  await waitFor('the alarm state retained', async () => (await retained(broker.url, `${ROOT}/alarm/in1/state`))?.includes('"ON"'));

  await broker.stop();
  await waitFor('the service saw the broker go', async () => !svc.status().connected);
  await broker.start();
  await waitFor('reconnected', async () => svc.status().connected, 10_000);

  const ha = await Watcher.connect(broker.url, ['homeassistant/+/+/+/config']);
  t.teardown(() => ha.close());
  await waitFor('the three discovery configs again', async () => new Set(ha.seen.map((s) => s.topic)).size === 3);
  // Published live they reach `ha` without the retain flag; a later subscriber must find them retained.
  const fresh = await Watcher.connect(broker.url, ['homeassistant/+/+/+/config']);
  t.teardown(() => fresh.close());
  await waitFor('the three discovery configs retained', async () => fresh.seen.filter((s) => s.retain).length === 3);
  t.equal(await retained(broker.url, `${ROOT}/availability`), 'online');
  t.match(JSON.parse((await retained(broker.url, `${ROOT}/relay/relay1/state`)) ?? 'null'), { state: 'ON' }, 'relay state');
  t.match(JSON.parse((await retained(broker.url, `${ROOT}/armed/state`)) ?? 'null'), { state: 'ON' }, 'armed state');
  // States that come from bus events (alarm, motion, disk...) are kept once acknowledged and sent again.
  t.match(JSON.parse((await retained(broker.url, `${ROOT}/alarm/in1/state`)) ?? 'null'), { state: 'ON', at }, 'alarm input state');
});
