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

t.test('the OS network: managed with systemd on the Pi only; directories default to systemd\'s, relative ones under the var directory', async (t) => {
  t.match(loadBoardProfile('rpi-cm4io', '/v').network, { lanInterface: 'eth0', manage: 'systemd', networkdDir: '/etc/systemd/network', timesyncdDir: '/etc/systemd/timesyncd.conf.d' });
  t.match(loadBoardProfile('sim', '/v').network, { lanInterface: null, manage: 'none' });
  t.match(loadBoardProfile('vboard', '/v').network, { lanInterface: 'eth0', manage: 'none' });
  const dir = mkdtempSync(join(tmpdir(), 'boards-'));
  const write = (name: string, network: unknown) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'profile.json'), JSON.stringify({ name, description: '', arch: 'x64', encoder: { backend: 'x264' }, network }));
  };
  write('rel', { lanInterface: 'lan0', manage: 'systemd', networkdDir: 'etc/network', timesyncdDir: '/x/timesyncd.conf.d' });
  t.same(loadBoardProfile('rel', '/v', dir).network, { lanInterface: 'lan0', manage: 'systemd', networkdDir: '/v/etc/network', timesyncdDir: '/x/timesyncd.conf.d' });
  write('glob', { lanInterface: 'eth*', manage: 'systemd' });
  t.throws(() => loadBoardProfile('glob', '/v', dir), /board "glob": network\.lanInterface: "eth\*" does not match/, 'a glob would match other interfaces in networkd\'s Name=');
  write('long', { lanInterface: 'a'.repeat(16) });
  t.throws(() => loadBoardProfile('long', '/v', dir), /network\.lanInterface: must be at most 15 characters/, 'longer than the kernel allows');
  write('other', { manage: 'netplan' });
  t.throws(() => loadBoardProfile('other', '/v', dir), /network\.manage: expected one of systemd, none/);
});
