import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoardProfileError, listBoards, loadBoardProfile } from '../../../firmware/board/profile.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { memoryLogger } from '../../../firmware/core/log.js';

t.test('every shipped board profile is valid, and its factory config too', async (t) => {
  const boards = listBoards();
  t.ok(boards.includes('sim'), 'the sim board is shipped');
  t.ok(boards.length >= 2, 'and at least one real board');
  for (const name of boards) {
    const p = loadBoardProfile(name, '/var-dir');
    t.equal(p.name, name);
    const store = new ConfigStore({ dir: '/nonexistent', boardDefaults: p.configDefaults, log: memoryLogger() });
    t.doesNotThrow(() => store.factoryDefaults(), `${name}: configDefaults fit the config schema`);
  }
});

t.test('the sim board points at files under the var directory', async (t) => {
  const p = loadBoardProfile('sim', '/tmp/v');
  t.equal(p.paths.data, '/tmp/v/data');
  t.equal(p.rs485[0]!.port, '/tmp/v/sim/rs485-dvr');
  t.same(p.sata.map((b) => b.path), ['/tmp/v/disks/bay1', '/tmp/v/disks/bay2']);
  t.equal(p.watchdog, null);
});

t.test('a broken profile is refused with the board and the field named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'boards-'));
  const write = (name: string, body: unknown) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'profile.json'), typeof body === 'string' ? body : JSON.stringify(body));
  };
  write('typo', { name: 'typo', description: '', arch: 'x64', encoder: { backend: 'x264' }, sata: [{ bay: 'b1', path: '/dev/sda', kind: 'tape' }] });
  write('json', '{ nope');
  write('renamed', { name: 'other', description: '', arch: 'x64', encoder: { backend: 'x264' } });
  t.throws(() => loadBoardProfile('typo', '/v', dir), new BoardProfileError('board "typo": sata[0].kind: expected one of block, directory, got "tape"'));
  t.throws(() => loadBoardProfile('json', '/v', dir), /board "json": .*profile.json is not valid JSON/);
  t.throws(() => loadBoardProfile('renamed', '/v', dir), /profile says its name is "other"/);
  t.throws(() => loadBoardProfile('absent', '/v', dir), /unknown board "absent" \(known: json, renamed, typo\)/);
});
