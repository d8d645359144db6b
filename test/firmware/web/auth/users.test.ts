import t from 'tap';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../../firmware/core/clock.js';
import { UserStore, UserError } from '../../../../firmware/web/auth/users.js';
import { rightsOn, roleAtLeast } from '../../../../firmware/web/auth/roles.js';

const PW = 'Install-Er-2026';

t.test('no default account: setup creates the first admin once, and it survives a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'users-'));
  const clock = new ManualClock();
  const s = new UserStore(dir, clock);
  await s.load();
  t.ok(s.setupNeeded, 'a new box asks for an admin account');
  t.notOk(await s.authenticate('admin', 'admin'), 'no admin/admin, no default password');
  await t.rejects(s.createFirstAdmin('admin', 'admin12345'), { code: 'weak-password' });
  const a = await s.createFirstAdmin('installer', PW);
  t.same([a.name, a.role], ['installer', 'admin']);
  await t.rejects(s.createFirstAdmin('second', PW), { code: 'setup-done' }, 'setup cannot be replayed to add an admin');
  const again = new UserStore(dir, clock);
  await again.load();
  t.notOk(again.setupNeeded);
  t.match(await again.authenticate('installer', PW), { name: 'installer', role: 'admin' });
  t.equal(await again.authenticate('installer', 'wrong-Password-1'), null);
  t.equal(await again.authenticate('nobody', PW), null);
  const file = join(dir, 'users.json');
  t.equal(statSync(file).mode & 0o777, 0o600, 'users.json readable by root only');
  t.notMatch(readFileSync(file, 'utf8'), new RegExp(PW), 'the password itself is never stored');
  t.notOk(JSON.stringify(again.list()).includes('scrypt'), 'accounts handed out carry no hash');
});

t.test('account management rules', async (t) => {
  const s = new UserStore(mkdtempSync(join(tmpdir(), 'users-')), new ManualClock());
  await s.load();
  await s.createFirstAdmin('boss', PW);
  await s.addUser('guard', 'viewer', 'Night-Shift-77', { carpark: ['live'] });
  await t.rejects(s.addUser('guard', 'viewer', PW), { code: 'exists' });
  await t.rejects(s.addUser('Bad Name', 'viewer', PW), { code: 'invalid' });
  await t.rejects(s.addUser('x', 'root' as 'admin', PW), UserError);
  await t.rejects(s.removeUser('boss'), { code: 'last-admin' });
  await t.rejects(s.setRole('boss', 'viewer', null), { code: 'last-admin' });
  await s.setPassword('guard', 'Day-Shift-88!');
  t.ok(await s.authenticate('guard', 'Day-Shift-88!'));
  t.notOk(await s.authenticate('guard', 'Night-Shift-77'));
  await s.removeUser('guard');
  t.same(s.list().map((a) => a.name), ['boss']);
  await t.rejects(s.removeUser('guard'), { code: 'not-found' });
});

t.test('rights per channel narrow the role, never widen it', async (t) => {
  t.same(rightsOn('admin', { ch1: [] }, 'ch1'), ['live', 'playback', 'export', 'ptz']);
  t.same(rightsOn('viewer', null, 'ch1'), ['live', 'playback']);
  t.same(rightsOn('viewer', { ch1: ['live', 'export', 'ptz'] }, 'ch1'), ['live'], 'a viewer cannot be given export');
  t.same(rightsOn('operator', { ch1: ['live'] }, 'ch2'), [], 'unlisted channel: nothing');
  t.ok(roleAtLeast('admin', 'operator'));
  t.notOk(roleAtLeast('viewer', 'operator'));
});
