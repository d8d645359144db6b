import t from 'tap';
import { ManualClock } from '../../../../firmware/core/clock.js';
import { SessionStore } from '../../../../firmware/web/auth/sessions.js';
import { LoginGuard } from '../../../../firmware/web/auth/login-guard.js';

t.test('sessions expire when idle and after their absolute lifetime', async (t) => {
  const clock = new ManualClock();
  const s = new SessionStore(clock, { idleMs: 1000, absoluteMs: 5000 });
  const a = s.create('alice');
  t.match(a.id, /^[A-Za-z0-9_-]{43}$/, '256-bit id');
  t.not(a.id, a.csrf);
  await clock.advance(900);
  t.ok(s.get(a.id), 'still alive, and touched');
  await clock.advance(900);
  t.ok(s.get(a.id), 'touched again');
  await clock.advance(1001);
  t.equal(s.get(a.id), null, 'idle too long');
  const b = s.create('bob');
  for (let i = 0; i < 6; i++) {
    await clock.advance(900);
    s.get(b.id);
  }
  t.equal(s.get(b.id), null, 'absolute lifetime reached even while active');
  t.equal(s.get(undefined), null);
  t.equal(s.get('forged'), null);
});

t.test('CSRF tokens are checked exactly; sessions of a user can be ended together; memory is bounded', async (t) => {
  const s = new SessionStore(new ManualClock(), { maxSessions: 3 });
  const a = s.create('alice');
  t.ok(s.checkCsrf(a, a.csrf));
  t.notOk(s.checkCsrf(a, undefined));
  t.notOk(s.checkCsrf(a, a.csrf.slice(1)));
  t.notOk(s.checkCsrf(a, s.create('x').csrf));
  const b = s.create('alice');
  t.equal(s.endUser('alice', b.id), 1);
  t.ok(s.get(b.id), 'the session that changed the password stays');
  for (let i = 0; i < 10; i++) s.create(`u${i}`);
  t.equal(s.size, 3);
});

t.test('login lockout by address and by account, doubling, then forgiven', async (t) => {
  const clock = new ManualClock();
  const g = new LoginGuard(clock, { maxFailures: 3, lockMs: 1000, maxLockMs: 4000, windowMs: 60_000 });
  const keys = ['ip:10.0.0.9', 'user:admin'];
  for (let i = 0; i < 2; i++) g.failure(keys);
  t.equal(g.retryAfter(keys), 0, 'two failures: not locked');
  g.failure(keys);
  t.equal(g.retryAfter(keys), 1000, 'third: locked 1 s');
  t.equal(g.retryAfter(['user:admin', 'ip:10.9.9.9']), 1000, 'the account is locked from any address');
  await clock.advance(1000);
  for (let i = 0; i < 3; i++) g.failure(keys);
  t.equal(g.retryAfter(keys), 2000, 'second lockout doubles');
  await clock.advance(2000);
  for (let i = 0; i < 9; i++) g.failure(keys);
  t.ok(g.retryAfter(keys) <= 4000, 'capped');
  g.success(['user:admin', 'ip:10.0.0.9']);
  t.equal(g.retryAfter(keys), 0);
  const small = new LoginGuard(clock, { maxEntries: 5 });
  for (let i = 0; i < 100; i++) small.failure([`ip:${i}`]);
  t.pass('bounded entries (no growth with many addresses)');
});
