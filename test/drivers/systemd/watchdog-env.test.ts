import t from 'tap';
import { spawnSync } from 'node:child_process';
import { SystemdNotifier, watchdogIntervalMs } from '../../../drivers/systemd/index.js';

t.test('half of WATCHDOG_USEC, in milliseconds', async (t) => {
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }), 15000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '3000' }), 1);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '1' }), 1, 'never 0, which would mean a busy loop');
  t.equal(new SystemdNotifier({ WATCHDOG_USEC: '20000000' }).watchdogIntervalMs, 10000);
});

t.test('no or malformed WATCHDOG_USEC means no watchdog', async (t) => {
  t.equal(watchdogIntervalMs({}), null);
  for (const bad of ['', '0', '-5', 'abc', '12s', '1e6', ' 100']) {
    t.equal(watchdogIntervalMs({ WATCHDOG_USEC: bad }), null, JSON.stringify(bad));
  }
});

t.test('WATCHDOG_PID must name this process', async (t) => {
  const usec = '10000000';
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: usec, WATCHDOG_PID: String(process.pid) }), 5000);
  const other = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  t.not(other, String(process.pid));
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: usec, WATCHDOG_PID: other }), null, `pid ${other} is not us`);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: usec, WATCHDOG_PID: 'x' }), null);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: usec, WATCHDOG_PID: '42' }, 42), 5000, 'explicit pid');
});
