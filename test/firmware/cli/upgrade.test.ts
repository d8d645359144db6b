// `dvr upgrade status` and `dvr upgrade rollback` over a real install root
// with two bundles installed, and what each says when it cannot.
import t from 'tap';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { upgradeCommand } from '../../../firmware/cli/upgrade.js';
import { chunksOf, makeTree, makeUpgrader, newKey, scriptBundle, tempDir } from '../upgrade/helpers.js';

t.test('status shows the slots; rollback swaps current and previous', async (t) => {
  const dir = tempDir(t);
  const key = await newKey(dir);
  const up = makeUpgrader(dir, [key.pub]);
  for (const v of ['1.1.0', '1.2.0']) await up.upgrade(chunksOf(await scriptBundle({ tree: makeTree(join(dir, v), v), key: key.file, out: join(dir, `${v}.bundle`) })));
  const sim = loadBoardProfile('sim', join(dir, 'var'));
  const board = () => ({ ...sim, upgrade: { root: join(dir, 'root'), keys: [key.pub] } });
  const socket = () => join(dir, 'no-firmware.sock');
  let out = '';
  const print = (s: string) => void (out += s);

  t.equal(await upgradeCommand('status', [], {}, board, socket, print), 0);
  t.match(out, /running: +not running\ncurrent: +1\.2\.0\nprevious: +1\.1\.0\nslots: +1\.1\.0, 1\.2\.0\ntrusted signing keys: [0-9a-f]{16}/, out);
  out = '';
  await upgradeCommand('status', [], { json: true }, board, socket, print);
  t.match(JSON.parse(out), { current: '1.2.0', previous: '1.1.0', running: null }, '--json gives the same');

  out = '';
  t.equal(await upgradeCommand('rollback', [], {}, board, socket, print), 0);
  t.match(out, /current is now 1\.1\.0 \(previous: 1\.2\.0\); it runs from the next start/);
  t.equal(readlinkSync(join(dir, 'root', 'current')), 'slots/1.1.0', 'current moved back on disk');

  await t.rejects(upgradeCommand('rollback', ['now'], {}, board, socket, print), { exitCode: 2, message: /usage: dvr upgrade/ }, 'extra words are a usage error');
  await t.rejects(upgradeCommand('rollback', [], {}, () => sim, socket, print), /board sim has no firmware slots/);
  const empty = () => ({ ...sim, upgrade: { root: join(dir, 'empty'), keys: [] } });
  await t.rejects(upgradeCommand('rollback', [], {}, empty, socket, print), /no previous version to go back to/);
});
