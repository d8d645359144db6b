import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { SchemaError } from '../../../firmware/core/schema.js';
import { LinkageService, redactUrl, ruleSchema, type LinkageTargets, type Rule } from '../../../firmware/linkage/index.js';

/** Every call the rules make, in order, as "name arg arg". */
function recorder(overrides: Partial<LinkageTargets> = {}) {
  const calls: string[] = [];
  let lockSeq = 0;
  const targets: LinkageTargets = {
    channels: () => ['cam1', 'cam2', 'cam3'],
    domes: () => ['dome1'],
    outputs: () => ['siren', 'light'],
    record: async (c, from, until) => (calls.push(`record ${c} ${from} ${until}`), `recording ${c}`),
    lock: async (c, from, to, expires) => (calls.push(`lock ${c} ${from} ${to} ${expires}`), `L${++lockSeq}`),
    unlock: async (id) => void calls.push(`unlock ${id}`),
    ptzPreset: async (d, p) => void calls.push(`ptzPreset ${d} ${p}`),
    ptzTour: async (d, tour) => void calls.push(`ptzTour ${d} ${tour}`),
    relay: async (o, on) => void calls.push(`relay ${o} ${on ? 'on' : 'off'}`),
    buzzer: async (p, on) => void calls.push(`buzzer ${p} ${on ? 'on' : 'off'}`),
    mqtt: async (topic, payload) => void calls.push(`mqtt ${topic} ${String(payload.active)}`),
    snapshot: async (c) => (calls.push(`snapshot ${c}`), `snap-${c}.jpg`),
    popup: async (c, s) => void calls.push(`popup ${c} ${s}`),
    ...overrides,
  };
  return { calls, targets };
}

function setup(rules: unknown[], overrides: Partial<LinkageTargets> = {}, timezone = 'UTC') {
  const bus = new EventBus();
  const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));
  const records: LogRecord[] = [];
  const log = new Logger('linkage', { level: 'debug', sink: (r) => void records.push(r) });
  const { calls, targets } = recorder(overrides);
  const parsed = rules.map((r) => ruleSchema.parse(r));
  const fired: BusEvents['linkage'][] = [];
  bus.on('linkage', (e) => fired.push(e));
  const svc = new LinkageService({ bus, clock, log, rules: () => parsed, timezone: () => timezone, targets });
  return { bus, clock, records, calls, svc, fired };
}

const settle = () => new Promise((r) => setImmediate(r));

t.test('an alarm input: record and lock with pre/post times, preset, siren for 5 s, MQTT start and end', async (t) => {
  const { bus, clock, calls, svc, fired } = setup([
    {
      id: 'door',
      name: 'Back door',
      trigger: { type: 'alarm', input: 'door1' },
      actions: [
        { type: 'record', channels: ['cam1', 'cam2'], preSec: 5, postSec: 30 },
        { type: 'lock', channels: ['cam1'], preSec: 10, postSec: 60, expiresHours: 24 },
        { type: 'ptzPreset', dome: 'dome1', preset: 3 },
        { type: 'relay', output: 'siren', mode: 'momentary', seconds: 5 },
        { type: 'mqtt', topic: 'linkage/door' },
      ],
    },
  ]);
  await svc.start();
  const t0 = clock.now();
  bus.emit('alarm', { source: 'gpio', input: 'door1', active: true, at: t0 });
  await settle();
  t.same(calls, [
    `record cam1 ${t0 - 5000} null`,
    `record cam2 ${t0 - 5000} null`,
    `lock cam1 ${t0 - 10_000} ${t0 + 60_000} 86400000`,
    'ptzPreset dome1 3',
    'relay siren on',
    'mqtt linkage/door true',
  ]);
  t.equal(fired.length, 1);
  t.equal(fired[0].phase, 'start');
  t.ok(fired[0].results.every((r) => r.ok), 'every action succeeded');
  t.same(svc.status(), [{ rule: 'door', subject: 'door1', since: t0 }]);

  // The same input again while active does not fire twice.
  bus.emit('alarm', { source: 'gpio', input: 'door1', active: true, at: t0 });
  await settle();
  t.equal(fired.length, 1, 'no second firing while active');

  calls.length = 0;
  clock.advance(5000);
  await settle();
  t.same(calls, ['relay siren off'], 'momentary siren off after 5 s');

  calls.length = 0;
  clock.advance(15_000);
  bus.emit('alarm', { source: 'gpio', input: 'door1', active: false, at: clock.now() });
  await settle();
  const end = t0 + 20_000;
  t.same(calls, [
    `record cam1 ${t0 - 5000} ${end + 30_000}`,
    `record cam2 ${t0 - 5000} ${end + 30_000}`,
    `lock cam1 ${t0 - 10_000} ${end + 60_000} 86400000`,
    'unlock L1',
    'mqtt linkage/door false',
  ]);
  t.equal(fired[1].phase, 'end');
  t.same(svc.status(), []);
  await svc.stop();
});

t.test('wildcard channel rules act on the channel that triggered them, per channel', async (t) => {
  const { bus, clock, calls, svc } = setup([
    { id: 'm', name: 'Motion', trigger: { type: 'motion', channel: '*' }, actions: [{ type: 'snapshot', channels: ['*'] }, { type: 'popup', channel: '*', seconds: 10 }] },
  ]);
  await svc.start();
  bus.emit('motion', { channel: 'cam2', active: true, at: clock.now() });
  bus.emit('motion', { channel: 'cam3', active: true, at: clock.now() });
  await settle();
  t.same([...calls].sort(), ['popup cam2 10', 'popup cam3 10', 'snapshot cam2', 'snapshot cam3']);
  t.equal(svc.status().length, 2, 'two occurrences, one per channel');
  await svc.stop();
});

t.test('follow relays stay on while the trigger lasts and the buzzer stops after its time', async (t) => {
  const { bus, clock, calls, svc } = setup([
    {
      id: 'vl',
      name: 'Video loss',
      trigger: { type: 'videoLoss', channel: 'cam1' },
      actions: [
        { type: 'relay', output: 'light', mode: 'follow', seconds: 2 },
        { type: 'buzzer', pattern: 'beep', seconds: 3 },
      ],
    },
  ]);
  await svc.start();
  bus.emit('videoLoss', { channel: 'cam1', lost: true, at: clock.now() });
  await settle();
  t.same(calls, ['relay light on', 'buzzer beep on']);
  clock.advance(3000);
  await settle();
  t.same(calls.slice(2), ['buzzer beep off']);
  clock.advance(60_000);
  await settle();
  t.equal(calls.length, 3, 'the light stays on while the video is lost');
  bus.emit('videoLoss', { channel: 'cam1', lost: false, at: clock.now() });
  await settle();
  clock.advance(1999);
  await settle();
  t.equal(calls.length, 3, 'still on just before its 2 s after the end');
  clock.advance(1);
  await settle();
  t.same(calls.slice(3), ['relay light off']);
  await svc.stop();
});

t.test('a relay held by two rules goes off only when both are done; stop() switches held outputs off', async (t) => {
  const { bus, clock, calls, svc } = setup([
    { id: 'a', name: 'A', trigger: { type: 'alarm', input: 'in1' }, actions: [{ type: 'relay', output: 'siren', mode: 'follow', seconds: 0 }] },
    { id: 'b', name: 'B', trigger: { type: 'alarm', input: 'in2' }, actions: [{ type: 'relay', output: 'siren', mode: 'follow', seconds: 0 }] },
  ]);
  await svc.start();
  bus.emit('alarm', { source: 'gpio', input: 'in1', active: true, at: clock.now() });
  bus.emit('alarm', { source: 'gpio', input: 'in2', active: true, at: clock.now() });
  await settle();
  bus.emit('alarm', { source: 'gpio', input: 'in1', active: false, at: clock.now() });
  await settle();
  t.same(calls, ['relay siren on', 'relay siren on'], 'in1 ending leaves the siren on for in2');
  await svc.stop();
  t.same(calls.slice(2), ['relay siren off'], 'stopping the firmware does not leave the siren on');
});

t.test('schedules: outside the schedule nothing fires (and nothing ends)', async (t) => {
  const { bus, clock, calls, svc } = setup([
    {
      id: 'night',
      name: 'Night',
      trigger: { type: 'alarm', input: 'pir' },
      schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '22:00', to: '06:00' }],
      actions: [{ type: 'relay', output: 'light', mode: 'latch' }],
    },
  ]);
  await svc.start();
  bus.emit('alarm', { source: 'gpio', input: 'pir', active: true, at: clock.now() });
  bus.emit('alarm', { source: 'gpio', input: 'pir', active: false, at: clock.now() });
  await settle();
  t.same(calls, [], 'noon: disarmed by schedule');
  clock.advance(11 * 3_600_000);
  bus.emit('alarm', { source: 'gpio', input: 'pir', active: true, at: clock.now() });
  await settle();
  t.same(calls, ['relay light on'], '23:00: fires');
  await svc.stop();
});

t.test('schedules in a zone the box does not know (an old config): drawn in UTC, one warning, no throw', async (t) => {
  const { bus, clock, calls, svc, records } = setup(
    [
      {
        id: 'noon',
        name: 'Noon',
        trigger: { type: 'alarm', input: 'pir' },
        schedule: [{ days: ['mon'], from: '12:00', to: '12:30' }],
        actions: [{ type: 'relay', output: 'light', mode: 'latch' }],
      },
    ],
    {},
    'Mars/Base',
  );
  await svc.start();
  for (let i = 0; i < 3; i++) {
    t.doesNotThrow(() => bus.emit('alarm', { source: 'gpio', input: 'pir', active: true, at: clock.now() }));
    bus.emit('alarm', { source: 'gpio', input: 'pir', active: false, at: clock.now() });
    await settle();
  }
  t.same(calls.slice(0, 1), ['relay light on'], 'Monday 12:00 UTC is in the schedule');
  t.match(records.filter((r) => r.level === 'warn'), [{ msg: /time zone/, timezone: 'Mars/Base' }]);
  t.equal(records.filter((r) => r.level === 'warn').length, 1, 'said once');
  await svc.stop();
});

t.test('camera offline, disk failed and disk full triggers', async (t) => {
  const { bus, clock, calls, svc } = setup([
    { id: 'cam', name: 'Camera down', trigger: { type: 'cameraOffline', channel: 'cam1' }, actions: [{ type: 'mqtt', topic: 'cam' }] },
    { id: 'disk', name: 'Disk', trigger: { type: 'diskFailed' }, actions: [{ type: 'buzzer', pattern: 'continuous', seconds: 1 }] },
    { id: 'full', name: 'Full', trigger: { type: 'diskFull' }, actions: [{ type: 'mqtt', topic: 'full' }] },
  ]);
  await svc.start();
  const at = clock.now();
  bus.emit('cameraState', { channel: 'cam1', state: 'connecting', at });
  bus.emit('cameraState', { channel: 'cam1', state: 'reconnecting', at });
  bus.emit('cameraState', { channel: 'cam1', state: 'unreachable', at });
  bus.emit('cameraState', { channel: 'cam1', state: 'streaming', at });
  bus.emit('diskState', { disk: 'bay2', state: 'failed', previous: 'ok', at });
  bus.emit('storageAlarm', { kind: 'all-locked', active: true, detail: 'x', at });
  bus.emit('storageAlarm', { kind: 'no-disk', active: true, detail: 'x', at });
  await settle();
  t.same(calls, ['mqtt cam true', 'mqtt cam false', 'buzzer continuous on', 'mqtt full true']);
  await svc.stop();
});

t.test('an action that fails or that the box lacks is reported; the other actions still run', async (t) => {
  const { bus, clock, calls, svc, fired, records } = setup(
    [
      {
        id: 'r',
        name: 'R',
        trigger: { type: 'tamper', channel: 'cam1' },
        actions: [{ type: 'ptzTour', dome: 'dome1', tour: 'perimeter' }, { type: 'relay', output: 'siren' }, { type: 'snapshot', channels: ['cam1'] }],
      },
    ],
    { ptzTour: undefined, relay: async () => Promise.reject(new Error('line busy')) },
  );
  await svc.start();
  bus.emit('tamper', { channel: 'cam1', active: true, at: clock.now() });
  await settle();
  t.same(calls, ['snapshot cam1'], 'the snapshot was still taken');
  t.same(
    fired[0].results.map((r) => [r.action, r.ok, r.detail]),
    [
      ['ptzTour', false, 'this box has no PTZ'],
      ['relay', false, 'line busy'],
      ['snapshot', true, 'snap-cam1.jpg'],
    ],
  );
  t.ok(records.some((r) => r.msg === 'linkage rule fired; some actions failed'), 'logged as a warning');
  await svc.stop();
});

t.test('rules that refer to unknown channels, domes or outputs are reported at start', async (t) => {
  const { svc, records } = setup([
    {
      id: 'bad',
      name: 'Bad',
      trigger: { type: 'motion', channel: 'cam9' },
      actions: [{ type: 'record', channels: ['cam1', 'cam7'] }, { type: 'ptzPreset', dome: 'nodome', preset: 1 }, { type: 'relay', output: 'horn' }],
    },
  ]);
  t.same(
    svc.check().map((p) => p.problem),
    ['unknown channel "cam9"', 'unknown channel "cam7"', 'unknown PTZ dome "nodome"', 'unknown relay output "horn"'],
  );
  await svc.start();
  t.equal(records.filter((r) => r.msg === 'linkage rule refers to something that does not exist').length, 4);
  await svc.stop();
});

t.test('a rule with a channel that does not exist: a clear error, and the other rules and actions still run', async (t) => {
  const { bus, clock, calls, svc, fired, records } = setup([
    {
      id: 'bad',
      name: 'Bad',
      trigger: { type: 'alarm', input: 'door1' },
      actions: [
        { type: 'snapshot', channels: ['cam9'] },
        { type: 'relay', output: 'siren', mode: 'latch' },
      ],
    },
    { id: 'good', name: 'Good', trigger: { type: 'alarm', input: 'door1' }, actions: [{ type: 'snapshot', channels: ['cam1'] }, { type: 'mqtt', topic: 'linkage/door' }] },
    { id: 'other', name: 'Other', trigger: { type: 'motion', channel: 'cam2' }, actions: [{ type: 'popup', channel: 'cam2', seconds: 10 }] },
  ]);
  await t.resolves(svc.start(), 'the service starts');
  t.match(
    records.filter((r) => r.msg === 'linkage rule refers to something that does not exist'),
    [{ level: 'error', rule: 'bad', problem: 'unknown channel "cam9"' }],
  );

  bus.emit('alarm', { source: 'gpio', input: 'door1', active: true, at: clock.now() });
  bus.emit('motion', { channel: 'cam2', active: true, at: clock.now() });
  await settle();
  for (const call of ['relay siren on', 'snapshot cam1', 'mqtt linkage/door true', 'popup cam2 10']) t.ok(calls.includes(call), call);
  const byRule = new Map(fired.map((f) => [f.rule, f.results]));
  t.same([...byRule.keys()].sort(), ['bad', 'good', 'other'], 'every rule fired');
  t.ok(byRule.get('good')?.every((r) => r.ok), 'the good rule did everything');
  t.match(byRule.get('bad'), [{ action: 'snapshot', target: 'cam9' }, { action: 'relay', target: 'siren', ok: true }], "the bad rule's relay still switched");
  t.match(byRule.get('bad')?.[0], { ok: false, detail: 'unknown channel "cam9"' }, 'the firing reports the unknown channel');
  await svc.stop();
});

t.test('disabled rules never fire', async (t) => {
  const { bus, clock, calls, svc } = setup([{ id: 'off', name: 'Off', enabled: false, trigger: { type: 'alarm', input: 'x' }, actions: [{ type: 'relay', output: 'siren' }] }]);
  await svc.start();
  bus.emit('alarm', { source: 'gpio', input: 'x', active: true, at: clock.now() });
  await settle();
  t.same(calls, []);
  await svc.stop();
});

t.test('webhooks: a real HTTP POST with JSON, credentials as Basic auth and never in the event', async (t) => {
  const got: { body: string; auth?: string; url?: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      got.push({ body, auth: req.headers.authorization, url: req.url });
      res.statusCode = req.url === '/fail' ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const { bus, clock, svc, fired } = setup([
    { id: 'hook', name: 'Hook', trigger: { type: 'alarm', input: 'gate' }, actions: [{ type: 'webhook', url: `http://ops:s3cret@127.0.0.1:${port}/alarm`, onEnd: true }] },
    { id: 'fail', name: 'Fail', trigger: { type: 'alarm', input: 'gate' }, actions: [{ type: 'webhook', url: `http://127.0.0.1:${port}/fail` }] },
  ]);
  await svc.start();
  bus.emit('alarm', { source: 'gpio', input: 'gate', active: true, at: clock.now() });
  await t.resolves(waitUntil(() => fired.length === 2));
  bus.emit('alarm', { source: 'gpio', input: 'gate', active: false, at: clock.now() });
  await t.resolves(waitUntil(() => fired.length === 4));
  const hook = got.filter((g) => g.url === '/alarm');
  t.equal(hook.length, 2, 'called at the start and at the end');
  t.equal(hook[0].auth, `Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
  t.match(JSON.parse(hook[0].body), { rule: 'hook', trigger: 'alarm', subject: 'gate', active: true });
  t.match(JSON.parse(hook[1].body), { active: false });
  const failed = fired.find((f) => f.rule === 'fail')!;
  t.same(failed.results.map((r) => [r.ok, r.detail]), [[false, 'HTTP 500']]);
  t.notOk(JSON.stringify(fired).includes('s3cret'), 'the password is not in any event');
  t.equal(redactUrl('http://a:b@h/x'), 'http://***@h/x');
  t.equal(redactUrl('not a url'), 'invalid URL');
  await svc.stop();
});

t.test('rule validation: unknown trigger or action types and bad fields are refused with their path', async (t) => {
  t.throws(() => ruleSchema.parse({ id: 'x', name: 'X', trigger: { type: 'earthquake' }, actions: [] }), /trigger\.type: expected one of alarm, motion/);
  t.throws(() => ruleSchema.parse({ id: 'x', name: 'X', trigger: { type: 'motion', channel: 'cam1' }, actions: [{ type: 'relay' }] }), /actions\[0\]\.output: required/);
  t.throws(() => ruleSchema.parse({ id: 'x', name: 'X', trigger: { type: 'motion', channel: 'cam1' }, actions: [{ type: 'webhook', url: 'file:///etc/passwd' }] }), SchemaError);
  t.throws(() => ruleSchema.parse({ id: 'x', name: 'X', trigger: { type: 'motion', channel: 'cam1; rm -rf /' }, actions: [] }), /trigger\.channel/);
  const r: Rule = ruleSchema.parse({ id: 'x', name: 'X', trigger: { type: 'alarm', input: 'a' }, actions: [{ type: 'record', channels: ['cam1'] }] });
  t.same(r.actions[0], { type: 'record', channels: ['cam1'], preSec: 5, postSec: 30 }, 'defaults filled in');
  t.same(r.schedule, null);
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
