/**
 * `dvr disk list|format|check` end to end: the CLI talks to a real control
 * socket whose disk.* handlers drive a real store over a block-device bay
 * (a loop device behind a by-path-like link: mkfs.ext4, mount and the store
 * header for real) and a directory bay (the sim board's kind).
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskCommand, formatCheck, formatDiskList } from '../../../firmware/cli/disk.js';
import { main } from '../../../firmware/cli/commands.js';
import { UserError } from '../../../firmware/cli/user-error.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ControlService } from '../../../firmware/control/control-service.js';
import type { CommandRequest } from '../../../firmware/control/protocol.js';
import { Bays, parseMountInfo } from '../../../firmware/storage/bays.js';
import { blockSizeFor, diskCommands, type DiskListEntry } from '../../../firmware/storage/commands.js';
import { blockPath } from '../../../firmware/storage/disk.js';
import { DiskMonitor } from '../../../firmware/storage/disk-monitor.js';
import { BLOCK_HEADER_SIZE, INDEX_RECORD_SIZE } from '../../../firmware/storage/format.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';
import { H264, frame, loopUnavailable, readAll } from '../storage/helpers.js';

t.setTimeout(150_000);
const skip = loopUnavailable();
const T0 = Date.UTC(2026, 0, 1) * 1000;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The promise fails with a UserError of this exit code and message. */
async function userError(t: Test, p: Promise<unknown>, code: number, msg: RegExp): Promise<void> {
  try {
    await p;
    t.ok(false, `expected a UserError matching ${msg}`);
  } catch (e) {
    t.ok(e instanceof UserError && e.exitCode === code, `UserError with exit code ${code} (${(e as Error).message})`);
    t.match((e as Error).message, msg);
  }
}

function headHash(dev: string): string {
  const fd = openSync(dev, 'r');
  try {
    const b = Buffer.alloc(1 << 20);
    readSync(fd, b, 0, b.length, 0);
    return createHash('sha256').update(b).digest('hex');
  } finally {
    closeSync(fd);
  }
}

t.test('dvr disk on a block bay and a directory bay', { skip }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dvrdisk-'));
  const img = join(base, 'bay1.img');
  sh('truncate', ['-s', '48M', img]);
  const dev = sh('losetup', ['-f', '--show', img]);
  // Cleanup even when an assertion fails midway: unmount whatever is under base, free the loop device.
  t.teardown(() => {
    for (const m of parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint.startsWith(base))) sh('umount', ['-l', m.mountPoint]);
    sh('losetup', ['-d', dev]);
    rmSync(base, { recursive: true, force: true });
  });
  sh('blockdev', ['--setrw', dev]);
  mkdirSync(join(base, 'bay2'));
  const link = join(base, 'pci-0000:00:1f.2-ata-1');
  symlinkSync(dev, link);
  const log = memoryLogger('storage');
  const bays = new Bays({ bays: [{ bay: 'bay1', path: link, kind: 'block' }, { bay: 'bay2', path: join(base, 'bay2'), kind: 'directory' }], mountRoot: join(base, 'disks'), log });
  await bays.prepareAll();
  const store = new RingStore({ bus: new EventBus(), log, disks: bays.diskConfigs(), format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 16, reserveBytes: 0 } });
  await store.start();
  t.match(store.disks()[0], { state: 'unformatted', detail: /no file system/ }, 'the store reports the empty block bay as unformatted');
  const monitor = new DiskMonitor({ store, log });
  const commands = diskCommands({ store, bays, monitor, format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, reserveBytes: 1024 * 1024 } });
  const socket = join(base, 'control.sock');
  const control = new ControlService(socket, (req) => commands.get(req.cmd)!((req as CommandRequest).args ?? {}), memoryLogger('control'));
  await control.start();
  t.teardown(async () => {
    await control.stop();
    await store.stop();
  });
  const dvr = async (args: string[], values: { json?: boolean; yes?: boolean; force?: boolean } = {}): Promise<{ code: number; out: string }> => {
    let out = '';
    const [sub, ...rest] = args;
    const code = await diskCommand(sub, rest, values, () => socket, { out: (s) => (out += s) });
    return { code, out };
  };
  const fails = async (args: string[], values: { json?: boolean; yes?: boolean; force?: boolean }, code: number, msg: RegExp) => {
    let out = '';
    const [sub, ...rest] = args;
    await userError(t, diskCommand(sub, rest, values, () => socket, { out: (s) => (out += s) }), code, msg);
    return out;
  };

  // list: the empty block bay is unformatted, the directory bay was formatted by the store at start.
  let list = await dvr(['list']);
  t.match(list.out, /^BAY\s+DEVICE\/PATH\s+STATE\s+CAPACITY\s+RECORDINGS\s+BLOCKS\s+LOCKED\s+SMART\s+TEMP\s+MODEL\s+SERIAL/);
  t.match(list.out, new RegExp(`bay1\\s+${dev}\\s+unformatted\\s+48\\.0 MiB`));
  t.match(list.out, /bay2\s+\S+bay2\s+ok\s+\S+ \S+\s+0 B \(0%\)\s+0\/16\s+0\s+-/);
  t.match(list.out, /bay1: no file system/);

  // format without --yes: says what it would destroy, does nothing.
  const before = headHash(dev);
  const out = await fails(['format', 'bay1'], {}, 2, /add --yes/);
  t.match(out, new RegExp(`formatting bay bay1 \\(${dev}\\) destroys:\\n  - everything on ${dev} \\(50331648 bytes\\)`));
  t.equal(headHash(dev), before, 'the device was not touched');

  // format --yes: mkfs.ext4, mount, store header; the disk joins the ring.
  const done = await dvr(['format', 'bay1'], { yes: true });
  t.match(done.out, /bay bay1 formatted: \d+ blocks of 256\.0 KiB, disk ok/);
  t.ok(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((m) => m.source === dev && m.fsType === 'ext4' && m.mountPoint === join(base, 'disks', 'bay1')), 'ext4 mounted at the bay');
  t.equal(store.disks()[0]!.state, 'ok');
  t.equal(store.disks()[0]!.storeId, store.disks()[1]!.storeId, 'with this store\'s id');

  // Record on both disks, seal the blocks.
  store.setStreamInfo('c', 'main', H264);
  for (let i = 0; i < 600; i++) {
    store.append('c', 'main', frame('c', i, T0, { size: 3000 }));
    if (i % 50 === 49) await store.flush();
  }
  await store.closeStream('c', 'main');
  t.ok(store.blocks().some((b) => b.disk === 'bay1'), 'bay1 holds recordings');
  store.lock({ channel: 'c', start: T0, end: T0 + 1e6, reason: 'test' });

  list = await dvr(['list'], { json: true });
  const rows = JSON.parse(list.out) as DiskListEntry[];
  t.match(rows[0], { name: 'bay1', kind: 'block', state: 'ok', node: dev, capacityBytes: 48 * 1024 * 1024 });
  t.ok(rows[0]!.usedBlocks > 0 && rows[0]!.usedBytes > 0, 'recordings counted');
  t.equal(rows.reduce((n, r) => n + r.lockedBlocks, 0), 1, 'the locked block is counted');
  t.type(rows[0]!.smartDetail, 'string', 'a loop device has no SMART: said so');
  t.match(formatDiskList(rows), /bay1\s+\/dev\/loop\d+\s+ok\s+48\.0 MiB\s+[\d.]+ [KM]iB \(\d+%\)\s+\d+\/\d+\s+[01]\s+n\/a/);

  // Refuses a disk with this store's recordings unless --force.
  await fails(['format', 'bay1'], { yes: true }, 2, /holds recordings of this store; add --force/);
  t.ok(store.blocks().some((b) => b.disk === 'bay1'), 'still there');
  await t.rejects(commands.get('disk.format')!({ bay: 'bay1', confirm: true }), /add --force/, 'the firmware refuses too');
  await t.rejects(commands.get('disk.format')!({ bay: 'bay1' }), /confirm it/);

  // check: healthy, then a corrupt index record and a truncated block file on the directory bay.
  t.same(await dvr(['check', 'bay2']), { code: 0, out: (await dvr(['check', 'bay2'])).out });
  t.match((await dvr(['check', 'bay2'])).out, /bay bay2 \(.*\): OK\n  blocks 16: \d+ sealed, 0 open, \d+ free; \d+ index records checked/);
  const sealed = store.blocks().filter((b) => b.disk === 'bay2' && b.state === 'sealed');
  t.ok(sealed.length >= 2);
  const f1 = blockPath(join(base, 'bay2'), sealed[0]!.block);
  const fd = openSync(f1, 'r+');
  writeSync(fd, Buffer.from([0xff]), 0, 1, BLOCK_HEADER_SIZE + INDEX_RECORD_SIZE * 3 + 9);
  closeSync(fd);
  truncateSync(blockPath(join(base, 'bay2'), sealed[1]!.block), 100_000);
  const bad = await dvr(['check', 'bay2']);
  t.equal(bad.code, 1, 'non-zero exit');
  t.match(bad.out, new RegExp(`block ${sealed[0]!.block}: index record 3: index record: checksum mismatch`));
  t.match(bad.out, new RegExp(`block ${sealed[1]!.block}: file is 100000 bytes, expected 262144 \\(truncated\\)`));
  t.match(bad.out, /frame lies beyond the end of the \(truncated\) file/);
  t.match(bad.out, /bay bay2 .*: \d+ problem\(s\)/);
  t.equal(JSON.parse((await dvr(['check', 'bay2'], { json: true })).out).ok, false);
  t.equal((await dvr(['check', 'bay1'])).code, 0, 'bay1 is fine');

  // --force: erased and back in the ring, empty; the other disk's recordings are still readable.
  const forced = await dvr(['format', 'bay1'], { yes: true, force: true });
  t.match(forced.out, /destroys:\n  - \d+ blocks of recordings/);
  t.equal(store.disks()[0]!.state, 'ok');
  t.equal(store.disks()[0]!.usedBlocks, 0, 'its recordings are gone');
  t.ok(store.blocks().every((b) => b.disk === 'bay2'));
  t.ok((await readAll(store, 'c', 'main')).length > 0);

  // A directory bay: store files replaced.
  const dirFormat = await dvr(['format', 'bay2'], { yes: true, force: true });
  t.equal(store.disks()[1]!.blocks, 16, 'a directory bay keeps its geometry (it shares a file system)');
  t.match(dirFormat.out, /the store files in/);
  t.equal(store.disks()[1]!.usedBlocks, 0);
  t.equal((await dvr(['check', 'bay2'])).code, 0, 'a fresh disk checks clean');

  await fails(['check', 'nope'], {}, 1, /no bay "nope" \(known: bay1, bay2\)/);
  await fails(['check'], {}, 2, /usage: dvr disk/);
  await fails(['list', 'x'], {}, 2, /usage/);
  await fails(['frob'], {}, 2, /usage/);
  await t.rejects(commands.get('disk.check')!({ bay: 42 }), /give a bay name/);
  // The device pulled: check says so.
  rmSync(link);
  await monitor.check();
  await fails(['check', 'bay1'], {}, 1, /bay bay1: no disk/);
  await fails(['format', 'bay1'], { yes: true }, 1, /no such device/);
});

t.test('without a running firmware, and the pieces on their own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvrdisk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await userError(t, diskCommand('list', [], {}, () => join(dir, 'none.sock')), 3, /not running/);
  t.equal(formatDiskList([]), 'no disk bay on this board');
  t.equal(blockSizeFor(100 * 1024 ** 3), 64 * 1024 * 1024);
  t.equal(blockSizeFor(64 * 1024 * 1024), 4 * 1024 * 1024);
  t.equal(blockSizeFor(1024), 1024 * 1024);
  t.match(formatCheck('b', { path: '/x', ok: false, blocks: 0, sealed: 0, open: 0, free: 0, indexRecords: 0, problems: ['p'], moreProblems: 2 }), /3 problem\(s\)[\s\S]*and 2 more/);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    await main(['help']);
  } finally {
    process.stdout.write = write;
  }
  t.match(out, /disk format BAY --yes \[--force\]/, 'the usage lists the disk commands');
  await userError(t, main(['disk', 'format', 'bay1', '--force', '--var', dir]), 3, /not running/);
});
