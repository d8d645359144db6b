import t from 'tap';
import { LogRing, Logger, redact, type LogRecord } from '../../../firmware/core/log.js';
import { EventBus } from '../../../firmware/core/bus.js';

t.test('secrets never reach the log line or the ring', async (t) => {
  const lines: string[] = [];
  const log = new Logger('mqtt', { sink: (_r, line) => lines.push(line) });
  log.info('connecting to rtsp://admin:hunter2@10.0.0.5/stream', { password: 'hunter2', nested: { apiToken: 'abc' }, url: 'mqtt://u:hunter2@broker' });
  t.notMatch(lines.join('\n'), /hunter2|abc/);
  t.match(lines[0], /rtsp:\/\/admin:\*\*\*@10\.0\.0\.5/);
  t.notMatch(JSON.stringify(log.ring.tail()), /hunter2/);
});

t.test('records are one JSON object a line with fixed keys first that fields cannot override', async (t) => {
  const lines: string[] = [];
  const log = new Logger('web', { sink: (_r, line) => lines.push(line), now: () => 0 });
  log.warn('slow', { msg: 'forged', level: 'error', ms: 12 });
  const r = JSON.parse(lines[0]!) as LogRecord;
  t.same(Object.keys(r).slice(0, 4), ['t', 'level', 'svc', 'msg']);
  t.equal(r.msg, 'slow');
  t.equal(r.level, 'warn');
  t.equal(r.ms, 12);
});

t.test('the ring keeps only the newest records and filters by level', async (t) => {
  const ring = new LogRing(3);
  const log = new Logger('x', { ring, sink: () => {}, level: 'debug' });
  for (let i = 0; i < 5; i++) log.debug(`d${i}`);
  log.error('boom');
  t.same(ring.tail().map((r) => r.msg), ['d3', 'd4', 'boom']);
  t.same(ring.tail(10, 'error').map((r) => r.msg), ['boom']);
  const quiet = new Logger('y', { ring: new LogRing(), sink: () => {}, level: 'warn' });
  quiet.info('hidden');
  t.equal(quiet.ring.tail().length, 0);
});

t.test('child loggers share the ring and name their service', async (t) => {
  const log = new Logger('dvr', { sink: () => {} });
  log.child('storage').info('ok');
  t.equal(log.ring.tail()[0]!.svc, 'storage');
});

t.test('redact handles errors, arrays and deep objects', async (t) => {
  t.same(redact([{ secret: 1 }]), [{ secret: '***' }]);
  t.match(redact(new Error('x')), { error: 'Error', message: 'x' });
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 10; i++) deep = (deep.n = {}) as Record<string, unknown>;
  t.match(JSON.stringify(redact(root)), /\[deep\]/);
  deep.password = 'hunter2';
  deep.days = ['mon'];
  const whole = JSON.stringify(redact(root, 0, Infinity));
  t.notMatch(whole, /\[deep\]|hunter2/, 'with no depth limit (the config) nothing is cut short, and secrets still go');
  t.match(whole, /"password":"\*\*\*","days":\["mon"\]/);
});

t.test('a throwing bus listener is reported and does not stop the others', async (t) => {
  const errors: string[] = [];
  const bus = new EventBus((name) => errors.push(name));
  const got: boolean[] = [];
  bus.on('videoLoss', () => {
    throw new Error('bug');
  });
  const off = bus.on('videoLoss', (e) => got.push(e.lost));
  bus.emit('videoLoss', { channel: 'ch1', lost: true, at: 1 });
  off();
  bus.emit('videoLoss', { channel: 'ch1', lost: false, at: 2 });
  t.same(got, [true]);
  t.same(errors, ['videoLoss', 'videoLoss']);
  t.equal(bus.listenerCount('videoLoss'), 1);
});
