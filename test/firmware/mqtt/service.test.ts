import t from 'tap';
import mqtt from 'mqtt';
import { createServer, type AddressInfo } from 'node:net';
import { Broker, retained, Watcher } from './broker.js';
import { makeService, ROOT } from './harness.js';
import { waitFor } from '../../helpers/firmware.js';
import type { EntitySpec } from '../../../firmware/mqtt/entities.js';

const ENTITIES: EntitySpec[] = [
  { kind: 'alarmInput', input: 'in1', name: 'Front door', deviceClass: 'door' },
  { kind: 'alarmInput', input: 'in2' },
  { kind: 'motion', channel: 'ch1' },
  { kind: 'tamper', channel: 'ch1' },
  { kind: 'videoLoss', channel: 'ch1' },
  { kind: 'camera', channel: 'ch1' },
  { kind: 'recording', channel: 'ch1' },
  { kind: 'relay', relay: 'relay1', name: 'Siren' },
  { kind: 'ptzPreset', channel: 'ch1', preset: 1, name: 'Gate' },
  { kind: 'ptzPreset', channel: 'ch1', preset: 2 },
  { kind: 'disk', disk: 'bay1' },
  { kind: 'armed' },
];
// The disk has two sensors (state and usage).
const CONFIGS = ENTITIES.length + 1;

/** What Home Assistant's MQTT integration requires of each discovery payload we send. */
const REQUIRED: Record<string, string[]> = {
  binary_sensor: ['state_topic', 'payload_on', 'payload_off', 'device_class'],
  sensor: ['state_topic'],
  switch: ['command_topic', 'state_topic', 'payload_on', 'payload_off'],
  button: ['command_topic', 'payload_press'],
};

t.test('availability, Home Assistant discovery, and re-discovery on Home Assistant birth', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc } = makeService(broker.url);
  for (const e of ENTITIES) svc.registerEntity(e);
  await svc.start();
  t.teardown(() => svc.stop());

  await waitFor('retained online', async () => (await retained(broker.url, `${ROOT}/availability`)) === 'online');
  t.pass('availability online, retained');

  const ha = await Watcher.connect(broker.url, ['homeassistant/+/+/+/config']);
  t.teardown(() => ha.close());
  await waitFor('every discovery config', async () => new Set(ha.seen.map((s) => s.topic)).size === CONFIGS);
  // What Home Assistant finds when it (re)subscribes: every config retained.
  const fresh = await Watcher.connect(broker.url, ['homeassistant/+/+/+/config']);
  await waitFor('retained configs', async () => fresh.seen.length === CONFIGS);
  await fresh.close();
  const uniqueIds = new Set<string>();
  for (const s of fresh.seen) {
    t.ok(s.retain, `${s.topic} retained`);
    const [prefix, component, nodeId, objectId, last] = s.topic.split('/');
    t.same([prefix, last], ['homeassistant', 'config']);
    t.match(nodeId, /^dvr_[0-9a-f]{12}$/, 'node id is the stable id, not the name');
    t.match(objectId, /^[a-z0-9_]+$/);
    const c = JSON.parse(s.text) as Record<string, unknown>;
    for (const f of [...REQUIRED[component], 'name', 'unique_id', 'availability_topic', 'device']) t.ok(c[f] !== undefined, `${component} ${objectId} has ${f}`);
    t.equal(c.availability_topic, `${ROOT}/availability`);
    t.same(c.device, { identifiers: [nodeId], name: 'Shop Front', model: 'sim', manufacturer: 'dvr-firmware', sw_version: '0.1.0' });
    t.notOk(uniqueIds.has(c.unique_id as string), 'unique_id unique');
    uniqueIds.add(c.unique_id as string);
    for (const topicField of ['state_topic', 'command_topic']) if (c[topicField]) t.match(c[topicField], new RegExp(`^${ROOT}/`));
  }
  const byObject = (id: string) => JSON.parse(ha.seen.find((s) => s.topic.split('/')[3] === id)!.text) as Record<string, unknown>;
  t.match(byObject('alarm_in1'), { name: 'Front door', device_class: 'door', state_topic: `${ROOT}/alarm/in1/state`, value_template: '{{ value_json.state }}' });
  t.match(byObject('alarm_in2'), { device_class: 'safety' });
  t.match(byObject('ch1_motion'), { device_class: 'motion' });
  t.match(byObject('ch1_video_loss'), { device_class: 'problem' });
  t.match(byObject('relay_relay1'), { name: 'Siren', command_topic: `${ROOT}/relay/relay1/set` });
  t.match(byObject('ptz_ch1_preset_1'), { name: 'Gate', command_topic: `${ROOT}/ptz/ch1/preset/set`, payload_press: '1' });
  t.match(byObject('disk_bay1_usage'), { unit_of_measurement: '%', state_topic: `${ROOT}/disk/bay1/usage` });

  // Home Assistant restarts: its birth message must bring every config again.
  const before = ha.seen.length;
  await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await waitFor('re-published discovery', async () => new Set(ha.seen.slice(before).map((s) => s.topic)).size === CONFIGS);
  t.pass('all configs re-published after homeassistant/status online');

  // An entity added at run time appears; one removed is deleted (empty retained config).
  const remove = svc.registerEntity({ kind: 'relay', relay: 'relay2' });
  const topic2 = ha.seen.length;
  await waitFor('relay2 config', async () => ha.seen.slice(topic2).some((s) => s.topic.endsWith('/relay_relay2/config') && s.text.length > 0));
  remove();
  await waitFor('relay2 removed', async () => ha.seen.slice(topic2).some((s) => s.topic.endsWith('/relay_relay2/config') && s.text === ''));
  t.pass('run-time add and remove reach Home Assistant');

  // A clean stop says offline itself.
  await svc.stop();
  t.equal(await retained(broker.url, `${ROOT}/availability`), 'offline');
});

t.test('bus events become retained states and an event stream with id, seq and time', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc, bus } = makeService(broker.url);
  await svc.start();
  t.teardown(() => svc.stop());
  const w = await Watcher.connect(broker.url, [`${ROOT}/#`]);
  t.teardown(() => w.close());
  await waitFor('connected', async () => svc.status().connected);

  const at = Date.UTC(2026, 10, 1, 12, 0, 0);
  bus.emit('alarm', { source: 'gpio', input: 'in1', active: true, at });
  const ev = await w.waitJson(`${ROOT}/events`, (v) => v.type === 'alarm');
  t.match(ev, { type: 'alarm', source: 'gpio', input: 'in1', active: true, at, time: '2026-11-01T12:00:00.000Z', device: 'shop_front' });
  t.match(ev.id, /^[0-9a-f-]{36}$/);
  t.type(ev.seq, 'number');
  t.notOk(w.on(`${ROOT}/events`)[0].retain, 'events are not retained');
  const state = JSON.parse((await retained(broker.url, `${ROOT}/alarm/in1/state`))!) as Record<string, unknown>;
  t.match(state, { state: 'ON', time: '2026-11-01T12:00:00.000Z', id: ev.id, seq: ev.seq });

  bus.emit('motion', { channel: 'ch1', active: true, at, cells: 12 });
  bus.emit('tamper', { channel: 'ch1', active: false, at });
  bus.emit('videoLoss', { channel: 'ch2', lost: true, at });
  bus.emit('diskState', { disk: 'bay1', state: 'full', previous: 'ok', at });
  bus.emit('cameraState', { channel: 'ch1', state: 'unauthorized', at, detail: '401 from camera' });
  bus.emit('alarm', { source: 'gpio', input: 'in1', active: false, at: at + 1000 });
  svc.reportDiskUsage('bay1', { usedPercent: 97.26, usedBytes: 9726, totalBytes: 10000 });
  await w.waitJson(`${ROOT}/alarm/in1/state`, (v) => v.state === 'OFF');
  const expectState: [string, Record<string, unknown>][] = [
    [`${ROOT}/channel/ch1/motion/state`, { state: 'ON', cells: 12 }],
    [`${ROOT}/channel/ch1/tamper/state`, { state: 'OFF' }],
    [`${ROOT}/channel/ch2/video_loss/state`, { state: 'ON' }],
    [`${ROOT}/disk/bay1/state`, { state: 'full', previous: 'ok' }],
    [`${ROOT}/disk/bay1/usage`, { used_percent: 97.3, used_bytes: 9726 }],
    [`${ROOT}/channel/ch1/camera/state`, { state: 'unauthorized', detail: '401 from camera' }],
    [`${ROOT}/alarm/in1/state`, { state: 'OFF' }],
  ];
  for (const [topic, want] of expectState) t.match(JSON.parse((await retained(broker.url, topic)) ?? 'null'), want, topic);
  // A publisher's bad time does not block the queue.
  bus.emit('alarm', { source: 'gpio', input: 'in3', active: true, at: NaN });
  bus.emit('alarm', { source: 'gpio', input: 'in4', active: true, at });
  t.match(await w.waitJson(`${ROOT}/alarm/in3/state`), { state: 'ON', time: null });
  await w.waitJson(`${ROOT}/alarm/in4/state`);
  const events = w.on(`${ROOT}/events`).map((s) => JSON.parse(s.text) as { seq: number; type: string });
  t.same(
    events.filter((e) => e.type !== 'serviceState').map((e) => e.type),
    ['alarm', 'motion', 'tamper', 'videoLoss', 'diskState', 'cameraState', 'alarm', 'alarm', 'alarm'],
    'every event on the stream, in order',
  );
  t.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1].seq), 'seq increases');
});

t.test('commands: handler called, reply with correlation data, switch state follows', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc } = makeService(broker.url);
  for (const e of ENTITIES) svc.registerEntity(e);
  const calls: unknown[] = [];
  svc.handleCommand('relay', (a) => void calls.push(['relay', a]));
  svc.handleCommand('ptzPreset', async (a) => {
    calls.push(['preset', a]);
    return { moving: true };
  });
  svc.handleCommand('arm', (a) => void calls.push(['arm', a]));
  svc.handleCommand('recording', (a) => void calls.push(['recording', a]));
  svc.reportArmed(true); // reported before the service started: published once connected
  await svc.start();
  t.teardown(() => svc.stop());
  const w = await Watcher.connect(broker.url, [`${ROOT}/#`, 'client/replies']);
  t.teardown(() => w.close());
  await waitFor('connected', async () => svc.status().connected);
  await new Promise((r) => setTimeout(r, 200)); // its subscriptions are in place

  await w.waitJson(`${ROOT}/armed/state`, (v) => v.state === 'ON');
  // MQTT 5 request/response, as a script would use it.
  await w.client.publishAsync(`${ROOT}/relay/relay1/set`, 'ON', { qos: 1, properties: { responseTopic: 'client/replies', correlationData: Buffer.from('req-1') } });
  const r1 = await w.waitJson('client/replies');
  t.match(r1, { id: 'req-1', ok: true, command: 'relay' });
  t.equal(w.on('client/replies')[0].correlation, 'req-1', 'correlation data echoed');
  await w.waitJson(`${ROOT}/relay/relay1/state`, (v) => v.state === 'ON');
  t.pass('relay state published for Home Assistant');

  // What Home Assistant sends (plain payloads) and what scripts send (JSON with an id).
  await w.client.publishAsync(`${ROOT}/relay/relay1/set`, '{"state":"OFF","id":"r2"}', { qos: 1 });
  await w.client.publishAsync(`${ROOT}/ptz/ch1/preset/set`, '2', { qos: 1 });
  await w.client.publishAsync(`${ROOT}/armed/set`, 'DISARM', { qos: 1 });
  await w.client.publishAsync(`${ROOT}/channel/ch1/recording/set`, '{"state":"ON","id":"rec"}', { qos: 1 });
  await waitFor('four replies', async () => w.on(`${ROOT}/response`).length === 4);
  const replies = w.on(`${ROOT}/response`).map((s) => JSON.parse(s.text) as Record<string, unknown>);
  t.match(replies, [
    { id: 'r2', ok: true, command: 'relay' },
    { id: null, ok: true, command: 'ptzPreset', result: { moving: true } },
    { id: null, ok: true, command: 'arm' },
    { id: 'rec', ok: true, command: 'recording' },
  ]);
  t.same(calls, [
    ['relay', { relay: 'relay1', on: true }],
    ['relay', { relay: 'relay1', on: false }],
    ['preset', { channel: 'ch1', preset: 2 }],
    ['arm', { armed: false }],
    ['recording', { channel: 'ch1', on: true }],
  ]);
  await w.waitJson(`${ROOT}/armed/state`, (v) => v.state === 'OFF');
});

t.test('bad commands get an error reply and nothing else stops', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc, bus } = makeService(broker.url);
  for (const e of ENTITIES) svc.registerEntity(e);
  let relayCalls = 0;
  svc.handleCommand('relay', () => void relayCalls++);
  svc.handleCommand('recording', () => {
    throw new Error('disk bay1 is read-only');
  });
  await svc.start();
  t.teardown(() => svc.stop());
  const w = await Watcher.connect(broker.url, [`${ROOT}/#`]);
  t.teardown(() => w.close());
  await waitFor('connected', async () => svc.status().connected);
  await new Promise((r) => setTimeout(r, 200));

  const cases: [string, string | Buffer, RegExp][] = [
    ['relay/relay1/set', '{"state":', /payload is not valid JSON/],
    ['relay/relay1/set', '{"state":5,"id":"x1"}', /invalid command: state: expected one of ON, OFF, got number 5/],
    ['relay/relay1/set', '{"state":"ON","colour":"red"}', /colour: unknown setting/],
    ['relay/relay1/set', '[1,2]', /invalid command: .*expected an object/],
    ['relay/relay1/set', 'MAYBE', /expected ON or OFF/],
    ['relay/nosuch/set', 'ON', /unknown relay "nosuch"/],
    ['ptz/ch9/preset/set', '3', /unknown PTZ channel "ch9"/],
    ['ptz/ch1/preset/set', '999', /preset number 1\.\.255/],
    ['ptz/ch1/preset/set', '{"preset":"3"}', /preset: expected an integer/],
    ['channel/ch7/recording/set', 'ON', /unknown channel "ch7"/],
    ['channel/ch1/recording/set', 'ON', /disk bay1 is read-only/],
    ['armed/set', 'ON', /nothing handles arm commands/],
    ['frobnicate/set', 'ON', /unknown command topic "frobnicate\/set"/],
    ['relay/relay1/set', Buffer.alloc(1024 * 1024, 0x41), /payload too large \(1048576 bytes; at most 4096\)/],
    ['relay/relay1/set', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), /expected ON or OFF/],
  ];
  for (const [i, [topic, payload]] of cases.entries()) {
    await w.client.publishAsync(`${ROOT}/${topic}`, payload, { qos: 1, properties: { correlationData: Buffer.from(`c${i}`) } });
  }
  await waitFor('a reply to each', async () => w.on(`${ROOT}/response`).length === cases.length);
  const replies = new Map(w.on(`${ROOT}/response`).map((s) => [s.correlation, JSON.parse(s.text) as { ok: boolean; error: string; id: string }]));
  for (const [i, [topic, , want]] of cases.entries()) {
    const r = replies.get(`c${i}`)!;
    t.equal(r?.ok, false, `${topic} refused`);
    t.match(r?.error, want, `${topic}: ${r?.error}`);
  }
  t.equal(relayCalls, 0, 'no handler saw a bad command');

  // Random garbage on every command topic: one error reply each, no crash.
  const before = w.on(`${ROOT}/response`).length;
  for (let i = 0; i < 200; i++) {
    const junk = Buffer.from(Array.from({ length: 1 + (i % 50) }, () => Math.floor(Math.random() * 256)));
    await w.client.publishAsync(`${ROOT}/${['relay/relay1/set', 'ptz/ch1/preset/set', 'armed/set'][i % 3]}`, junk, { qos: 0 });
  }
  await waitFor('200 more replies', async () => w.on(`${ROOT}/response`).length === before + 200);

  t.ok(svc.status().connected, 'still connected');
  bus.emit('alarm', { source: 'gpio', input: 'in2', active: true, at: Date.now() });
  await w.waitJson(`${ROOT}/alarm/in2/state`, (v) => v.state === 'ON');
  await w.client.publishAsync(`${ROOT}/relay/relay1/set`, 'ON', { qos: 1 });
  await waitFor('a good command still works', async () => relayCalls === 1);
});

t.test('wrong password: a clear log line, retries, and the password is never logged', async (t) => {
  const broker = await Broker.start({ users: { dvr: 'Right-Pass-7' } });
  t.teardown(() => broker.stop());
  const { svc, log, cfg } = makeService(broker.url, { mqtt: { username: 'dvr', password: 'Wrong-Pass-9', url: `mqtt://dvr:Wrong-Pass-9@127.0.0.1:${broker.port}` } });
  await svc.start();
  t.teardown(() => svc.stop());
  await waitFor('refusal logged', async () => log.ring.tail().some((r) => r.level === 'error' && /refused the login for user "dvr": .*wrong user name or password/.test(String(r.reason))));
  await waitFor('several attempts', async () => (broker.log().match(/not authori[sz]ed/gi) ?? []).length >= 3);
  t.pass('it keeps retrying');
  t.equal(log.ring.tail().filter((r) => /refused the login/.test(String(r.reason))).length, 1, 'one line per reason, not one per attempt');
  t.match(svc.status().lastError, /wrong user name or password/);

  cfg.password = 'Right-Pass-7';
  cfg.url = broker.url;
  await svc.stop();
  await svc.start();
  await waitFor('connected with the right password', async () => svc.status().connected);
  const all = JSON.stringify(log.ring.tail());
  t.notMatch(all, /Wrong-Pass-9|Right-Pass-7/, 'no password in any log record');
});

t.test('a broker that hangs up at once: attempts spaced by a doubling delay, up to its ceiling', async (t) => {
  // A TCP listener that closes every connection: the MQTT handshake never completes.
  const attempts: number[] = [];
  const server = createServer((s) => (attempts.push(performance.now()), s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const { svc } = makeService(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, { deps: { reconnectBaseMs: 100, reconnectMaxMs: 800 } });
  await svc.start();
  t.teardown(() => svc.stop());
  await waitFor('seven attempts', async () => attempts.length >= 7, 20_000);
  const gaps = attempts.slice(1).map((a, i) => a - attempts[i]!);
  t.comment(`gaps between attempts: ${gaps.map((g) => Math.round(g)).join(', ')} ms`);
  for (const [i, want] of [100, 200, 400, 800, 800, 800].entries()) {
    t.ok(gaps[i]! >= want * 0.9 && gaps[i]! < want + 700, `attempt ${i + 2} came ${Math.round(gaps[i]!)} ms after the previous (backoff ${want} ms)`);
  }
});

t.test('a command handler that never answers gets a timeout reply', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const { svc } = makeService(broker.url, { deps: { commandTimeoutMs: 300 } });
  svc.handleCommand('arm', () => new Promise(() => {}));
  await svc.start();
  t.teardown(() => svc.stop());
  const w = await Watcher.connect(broker.url, [`${ROOT}/response`]);
  t.teardown(() => w.close());
  await waitFor('connected', async () => svc.status().connected);
  await new Promise((r) => setTimeout(r, 200));
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(`${ROOT}/armed/set`, '{"state":"ON","id":"slow"}', { qos: 1 });
  t.match(await w.waitJson(`${ROOT}/response`), { id: 'slow', ok: false, error: /no answer within 300 ms/ });
});
