// SharedLines: one bus per line, opened by the first user, closed by the last.
import t from 'tap';
import { SharedLines } from '../../../drivers/serial/index.js';
import { ptyPair } from '../../fixtures/ptz-dome-sim.js';

t.test('two users, one bus; the last release closes it; a reopen works', async (t) => {
  const pair = await ptyPair();
  t.teardown(() => pair.close());
  const lines = new SharedLines({ gapMs: () => 9 });
  const [a, b] = await Promise.all([lines.acquire('bus1', { path: pair.a, baudRate: 9600 }), lines.acquire('bus1', { path: pair.a, baudRate: 2400 })]);
  t.equal(a.bus, b.bus, 'the same bus for both');
  t.same([...lines.users()], [['bus1', 2]]);
  t.match(a.rs485, { requested: false });
  await a.release();
  await a.release(); // twice is harmless
  t.same([...lines.users()], [['bus1', 1]]);
  const d = b.bus.device({ name: 'x' });
  t.equal(await d.send(Buffer.from([1, 2, 3])), 'sent', 'still open for the other user');
  await b.release();
  t.same([...lines.users()], []);
  t.equal(await d.send(Buffer.from([1])), 'closed');
  const c = await lines.acquire('bus1', { path: pair.a, baudRate: 9600 });
  t.not(c.bus, b.bus, 'a fresh bus after the line was closed');
  await c.release();
});

t.test('a line that will not open: every waiting user is told, nothing is held', async (t) => {
  const lines = new SharedLines();
  const both = [lines.acquire('gone', { path: '/nonexistent/tty', baudRate: 9600 }), lines.acquire('gone', { path: '/nonexistent/tty', baudRate: 9600 })];
  for (const p of both) await t.rejects(p);
  t.same([...lines.users()], []);
});
