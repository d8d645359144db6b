// The board profile's upgrade section: trusted keys checked when the profile
// loads, the install root resolved like the profile's other paths.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { tempDir } from '../upgrade/helpers.js';

const spkiBase64 = (type: 'ed25519' | 'x25519') => generateKeyPairSync(type as 'ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

t.test('upgrade keys are checked at load; the root resolves against the var directory', async (t) => {
  const dir = tempDir(t, 'boards-');
  const write = (name: string, upgrade: unknown) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'profile.json'), JSON.stringify({ name, description: '', arch: 'x64', encoder: { backend: 'x264' }, upgrade }));
  };
  const good = spkiBase64('ed25519');
  write('good', { keys: [good], root: 'firmware' });
  write('notkey', { keys: ['A'.repeat(60)] });
  write('x25519', { keys: [spkiBase64('x25519')] });
  write('none', null);
  const p = loadBoardProfile('good', '/v', dir);
  t.same(p.upgrade, { keys: [good], root: '/v/firmware' });
  t.throws(() => loadBoardProfile('notkey', '/v', dir), /board "notkey": upgrade key AAAAAAAAAAAA…/);
  t.throws(() => loadBoardProfile('x25519', '/v', dir), /not an Ed25519 public key \(x25519\)/);
  t.equal(loadBoardProfile('none', '/v', dir).upgrade, null, 'no section: no upgrade');
  t.equal(loadBoardProfile('sim', '/v').upgrade, null, 'the sim board trusts no key');
});
