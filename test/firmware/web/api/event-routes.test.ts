// The event list over the API: only the channels the caller may watch.
import t from 'tap';
import { EventBus } from '../../../../firmware/core/bus.js';
import { systemClock } from '../../../../firmware/core/clock.js';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { EventJournal } from '../../../../firmware/events/journal.js';
import { caller, startWeb } from '../web-service.js';

t.test('GET /api/v1/events', async (t) => {
  const bus = new EventBus();
  const journal = new EventJournal({ bus, clock: systemClock, log: memoryLogger(), dir: t.testdir() });
  await journal.start();
  t.teardown(() => journal.stop());
  const { web, config } = await startWeb({ events: () => journal });
  t.teardown(() => web.stop());
  await config.set('channels', [{ id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:1/a' } }, { id: 'gate', name: 'Gate', main: { url: 'rtsp://127.0.0.1:1/b' } }]);
  const https = caller(web);
  const call = (path: string, headers: Record<string, string> = {}, body?: unknown) => https(body ? 'POST' : 'GET', path, headers, body);
  const admin = { cookie: (await call('/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' })).cookie };
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77', { gate: ['live'] });
  const guard = { cookie: (await call('/api/v1/login', {}, { name: 'guard', password: 'Night-Shift-77' })).cookie };
  const now = Date.now();
  bus.emit('motion', { channel: 'yard', active: true, at: now });
  bus.emit('motion', { channel: 'gate', active: true, at: now + 1 });
  bus.emit('diskState', { disk: 'bay1', state: 'ok', previous: null, at: now + 2 });

  t.same((await call('/api/v1/events', admin)).json.events.map((e: { channel: string | null }) => e.channel), [null, 'gate', 'yard'], 'an admin sees everything, newest first');
  t.same((await call('/api/v1/events', guard)).json.events.map((e: { channel: string | null }) => e.channel), [null, 'gate'], 'a guard with rights on gate only: not the yard');
  t.same((await call('/api/v1/events?channel=yard', guard)).json.events, [], 'not even when asked for');
  t.same((await call('/api/v1/events?type=disk', admin)).json.events.map((e: { text: string }) => e.text), ['disk bay1 ok']);
  t.equal((await call('/api/v1/events?type=nonsense', admin)).status, 400, 'an unknown type: 400');
  t.equal((await call('/api/v1/events?from=yesterday', admin)).status, 400, 'a time that is not a number: 400');
  t.equal((await call('/api/v1/events')).status, 401);
});
