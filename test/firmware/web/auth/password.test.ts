import t from 'tap';
import { hashPassword, needsRehash, passwordProblems, verifyPassword, DUMMY_HASH } from '../../../../firmware/web/auth/password.js';

t.test('a hash verifies its password and nothing else, and is salted', async (t) => {
  const h1 = await hashPassword('Correct-Horse-9');
  const h2 = await hashPassword('Correct-Horse-9');
  t.not(h1, h2, 'two hashes of one password differ (salt)');
  t.match(h1, /^scrypt\$32768\$8\$1\$/);
  t.ok(await verifyPassword('Correct-Horse-9', h1));
  t.notOk(await verifyPassword('correct-horse-9', h1));
  t.notOk(await verifyPassword('Correct-Horse-9', DUMMY_HASH));
  t.notOk(needsRehash(h1));
});

t.test('tampered or weak stored hashes are refused, not trusted', async (t) => {
  t.notOk(await verifyPassword('x', 'plain-text-password'));
  t.notOk(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAA'), 'absurd N would exhaust memory: refused');
  t.notOk(await verifyPassword('x', 'scrypt$1000$8$1$AAAA$AAAA'), 'N not a power of two');
  t.ok(needsRehash('scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA'), 'older, weaker parameters get rehashed');
});

t.test('the strength rule', async (t) => {
  t.same(passwordProblems('Tr0ub4dor&3x', 'admin'), []);
  t.match(passwordProblems('short1A', 'admin'), [/at least 10/]);
  t.match(passwordProblems('alllowercaseletters', 'admin'), [/three of/]);
  t.match(passwordProblems('Password123', 'x').join(), /well-known/);
  t.match(passwordProblems('MyAdmin!2024', 'admin'), [/user name/]);
  t.match(passwordProblems('a'.repeat(300), 'x').join(), /at most 256/);
});
