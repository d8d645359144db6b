import t from 'tap';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { isTimeZone, TimeZoneGuard } from '../../../firmware/core/timezone.js';

t.test('isTimeZone: what Intl.DateTimeFormat takes', async (t) => {
  for (const z of ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Etc/GMT+5']) t.ok(isTimeZone(z), z);
  for (const z of ['Mars/Base', 'Europe/Atlantis', '', 'Europe/../UTC']) t.notOk(isTimeZone(z), JSON.stringify(z));
  t.notOk(isTimeZone('Mars/Base'), 'the same answer the second time (cached)');
});

t.test('TimeZoneGuard: a known zone passes, an unknown one becomes UTC with one warning', async (t) => {
  const records: LogRecord[] = [];
  const guard = new TimeZoneGuard(new Logger('test', { level: 'debug', sink: (r) => void records.push(r) }));
  t.equal(guard.zone('Europe/Paris'), 'Europe/Paris');
  t.same(records, []);
  for (let i = 0; i < 5; i++) t.equal(guard.zone('Mars/Base'), 'UTC');
  t.match(records, [{ level: 'warn', timezone: 'Mars/Base', msg: /UTC/ }]);
  t.equal(records.length, 1, 'said once, not on every use');
  guard.zone('Europe/Atlantis');
  t.equal(records.length, 2, 'another unknown name is said too');
});
