import t, { type Test } from 'tap';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { LinkageService } from '../../../firmware/linkage/engine.js';
import { ruleSchema } from '../../../firmware/linkage/rules.js';
import { OnvifCamera, OnvifEvents } from '../../../firmware/onvif/index.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { nextEvent } from './helpers.js';

const streams = { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } };

async function setup(t: Test, simOptions: Partial<ConstructorParameters<typeof OnvifCameraSim>[0]> = {}) {
  const sim = new OnvifCameraSim({ streams, clockOffsetMs: -86_400_000, ...simOptions });
  await sim.start();
  const bus = new EventBus();
  const camera = new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: sim.password, timeoutMs: 3000 });
  const events = new OnvifEvents({ channel: 'ch3', camera, bus, log: memoryLogger(), retryMs: 200, maxRetryMs: 1000 });
  const seen: Array<{ name: string; e: unknown }> = [];
  for (const name of ['motion', 'tamper', 'alarm'] as const) bus.on(name, (e) => seen.push({ name, e }));
  t.teardown(async () => {
    await events.stop();
    await sim.stop();
  });
  const subscribed = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'subscribed');
  await events.start();
  await subscribed;
  return { sim, bus, events, seen };
}

const motion = (active: boolean) => (e: BusEvents['motion']) => e.active === active;

t.test('motion on the camera: motion active then inactive on the bus, once each, in order', async (t) => {
  const { sim, bus, seen } = await setup(t);
  t.same(seen, [], 'the Initialized "no motion" sent on subscribing is no event');
  const on = nextEvent(bus, 'motion', motion(true));
  sim.motion(true);
  t.match(await on, { channel: 'ch3', active: true });
  const off = nextEvent(bus, 'motion', motion(false));
  sim.motion(false);
  t.match(await off, { channel: 'ch3', active: false });
  // The simulator raises both the cell-motion and the MotionAlarm topic, as Hikvision does: one bus event per change.
  t.same(
    seen.map((s) => [s.name, (s.e as { active: boolean }).active]),
    [
      ['motion', true],
      ['motion', false],
    ],
  );
});

t.test('tamper and a digital input', async (t) => {
  const { sim, bus } = await setup(t, { inputs: ['DigitalInput_1', 'DigitalInput_2'] });
  const tamper = nextEvent(bus, 'tamper');
  sim.tamper(true);
  t.match(await tamper, { channel: 'ch3', active: true });
  const input = nextEvent(bus, 'alarm');
  sim.digitalInput('DigitalInput_2', true);
  t.match(await input, { source: 'onvif:ch3', input: 'ch3:DigitalInput_2', active: true }, 'named as a rule names it: <channel>:<token>');
  const raw = nextEvent(bus, 'onvifEvent', (e) => e.notification.topic === 'Device/Trigger/DigitalInput');
  sim.digitalInput('DigitalInput_2', false);
  t.match((await raw).notification, { operation: 'Changed', source: { InputToken: 'DigitalInput_2' }, data: { LogicalState: 'false' } });
});

t.test('the camera reboots: the subscription is created again and events flow', async (t) => {
  const { sim, bus, events } = await setup(t);
  const lost = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'lost');
  const again = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'subscribed');
  await sim.restart(300);
  t.ok((await lost).detail, 'the loss is reported with its reason');
  await again;
  t.equal(events.subscriptions, 2);
  t.equal(sim.events.subs.size, 1, 'one live pull point on the rebooted camera');
  const on = nextEvent(bus, 'motion', motion(true));
  sim.motion(true);
  t.match(await on, { active: true });
});

t.test('a pull point the camera dropped (expired) is created again', async (t) => {
  const { sim, bus, events } = await setup(t);
  const again = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'subscribed');
  sim.events.clear(); // ends the pending PullMessages, like a camera that expired the subscription
  await again;
  t.equal(events.subscriptions, 2);
  const on = nextEvent(bus, 'motion', motion(true));
  sim.motion(true);
  await on;
});

t.test('motion that ended while the camera was away is reported from its Initialized state', async (t) => {
  const { sim, bus } = await setup(t);
  const on = nextEvent(bus, 'motion', motion(true));
  sim.motion(true);
  await on;
  const off = nextEvent(bus, 'motion', motion(false));
  await sim.restart(100); // comes back with no motion
  t.match(await off, { active: false });
});

t.test('renewal keeps the subscription; stop unsubscribes', async (t) => {
  const sim = new OnvifCameraSim({ streams });
  await sim.start();
  t.teardown(() => sim.stop());
  const bus = new EventBus();
  const camera = new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: sim.password });
  const events = new OnvifEvents({ channel: 'c', camera, bus, renewEveryMs: 0 });
  const subscribed = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'subscribed');
  await events.start();
  await subscribed;
  for (let i = 0; i < 3; i++) {
    const m = nextEvent(bus, 'tamper');
    sim.tamper(i % 2 === 0);
    await m;
  }
  t.ok(sim.requests.filter((r) => r.action === 'Renew').length >= 2, 'renewed after pulls');
  await events.stop();
  t.equal(sim.events.subs.size, 0, 'unsubscribed');
  await events.stop(); // twice is fine
});

t.test('a camera that is down at start is retried until it is up', async (t) => {
  const sim = new OnvifCameraSim({ streams });
  await sim.start();
  const port = sim.port;
  await sim.stop();
  const bus = new EventBus();
  const camera = new OnvifCamera({ host: sim.host, port, username: sim.username, password: sim.password, timeoutMs: 2000 });
  const events = new OnvifEvents({ channel: 'c', camera, bus, retryMs: 100 });
  const lost = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'lost');
  await events.start();
  t.match((await lost).detail, /unreachable/);
  const up = nextEvent(bus, 'onvifSubscription', (e) => e.state === 'subscribed');
  await sim.start();
  t.teardown(() => sim.stop());
  await up;
  await events.stop();
});

t.test('a camera that answers every pull at once, empty: no busy loop, events still arrive', async (t) => {
  const { sim, bus } = await setup(t, { maxPullTimeoutMs: 0 });
  const before = sim.requests.filter((r) => r.action === 'PullMessages').length;
  await new Promise((r) => setTimeout(r, 1500));
  const pulls = sim.requests.filter((r) => r.action === 'PullMessages').length - before;
  t.ok(pulls <= 5, `${pulls} pulls in 1.5 s (hundreds without the pause)`);
  const on = nextEvent(bus, 'motion', motion(true));
  sim.motion(true);
  await on;
});

t.test("a rule on a camera's digital input, written as the rules document says, fires from the camera", async (t) => {
  const { sim, bus } = await setup(t, { inputs: ['DigitalInput_1'] });
  const relays: string[] = [];
  const linkage = new LinkageService({
    bus,
    clock: new ManualClock(Date.now()),
    log: memoryLogger(),
    rules: () => [ruleSchema.parse({ id: 'gate', name: 'Gate contact', trigger: { type: 'alarm', input: 'ch3:DigitalInput_1' }, actions: [{ type: 'relay', output: 'siren', mode: 'follow', seconds: 0 }] })],
    timezone: () => 'UTC',
    targets: { channels: () => ['ch3'], outputs: () => ['siren'], relay: async (o, on) => void relays.push(`${o} ${on ? 'on' : 'off'}`) },
  });
  await linkage.start();
  t.teardown(() => linkage.stop());
  const fired = nextEvent(bus, 'linkage', (e) => e.phase === 'start');
  sim.digitalInput('DigitalInput_1', true);
  t.match(await fired, { rule: 'gate', subject: 'ch3:DigitalInput_1' });
  t.same(relays, ['siren on']);
});
