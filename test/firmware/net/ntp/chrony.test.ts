// queryNtp against a real NTP server: Debian's chronyd, in the foreground on
// a free loopback port with its own config, never touching the system clock
// (-x), serving its local clock as stratum 8.
import t from 'tap';
import { queryFirst, queryNtp } from '../../../../firmware/net/ntp/client.js';
import { startChronyd } from './chronyd.js';

t.test('chronyd as the server: stratum 8, small offset, non-negative delay', async (t) => {
  const server = await startChronyd();
  if ('skip' in server) {
    t.skip(server.skip, () => {});
    return;
  }
  t.teardown(() => server.stop());
  const { port } = server;
  const r = await queryNtp('127.0.0.1', { port, timeoutMs: 2000 });
  t.comment(`chronyd: stratum ${r.stratum}, refid ${r.refId}, offset ${r.offsetMs.toFixed(3)} ms, delay ${r.delayMs.toFixed(3)} ms, precision 2^${r.precision} s`);
  t.equal(r.stratum, 8, 'the local stratum of its config');
  t.ok(Math.abs(r.offsetMs) < 1000, `offset ${r.offsetMs} ms`);
  t.ok(r.delayMs >= 0 && r.delayMs < 1000, `delay ${r.delayMs} ms`);
  t.equal(r.leap, 0);
  t.equal(r.version, 4, 'it answers in the version asked');
  t.equal(r.refId, '127.127.1.1', "chrony's local reference");
  t.ok(r.precision < 0 && r.precision > -40, `precision 2^${r.precision} s`);

  // Several exchanges in a row, and a dead server before it in a list (chronyd has no rate limit configured).
  for (let i = 0; i < 5; i++) t.ok(Math.abs((await queryNtp('127.0.0.1', { port })).offsetMs) < 1000);
  const first = await queryFirst(['127.0.0.2', '127.0.0.1'], { port });
  t.equal(first.result.stratum, 8);
  t.same(first.failures.map((f) => f.error.code), ['unreachable']);

  // Stopped: the same port now says unreachable.
  await server.stop();
  await t.rejects(queryNtp('127.0.0.1', { port, timeoutMs: 2000 }), { name: 'NtpError', code: 'unreachable' });
});
