import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import { AuditLog } from '../../../firmware/web/audit.js';

t.test('audit records are durable lines, redacted, rotated, and read back across a torn write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  const log = new AuditLog(dir, new ManualClock(), 600);
  await log.open();
  await log.record('login', 'alice', '10.0.0.2');
  await log.record('setting-changed', 'alice', '10.0.0.2', { path: 'mqtt.password', password: 'hunter2' });
  t.equal(statSync(log.file).mode & 0o777, 0o600);
  t.notMatch(readFileSync(log.file, 'utf8'), /hunter2/, 'secrets redacted');
  for (let i = 0; i < 10; i++) await log.record('login-failed', 'mallory', '10.6.6.6', { attempt: i });
  appendFileSync(log.file, '{"t":"2026-'); // a power cut mid-append
  const tail = await log.tail(5);
  t.equal(tail.length, 5);
  t.same(tail.at(-1), { t: new Date(Date.UTC(2026, 0, 1)).toISOString(), action: 'login-failed', user: 'mallory', from: '10.6.6.6', detail: { attempt: 9 } });
  t.ok(statSync(join(dir, 'audit.1.log')).size > 0, 'rotated once past maxBytes');
  t.ok(statSync(log.file).size <= 600);
  await log.close();
  await t.rejects(log.record('login', 'x', null), /not open/);
});
