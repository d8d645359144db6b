/**
 * Block-device bays on real loop devices: an ext4 disk is mounted, an empty
 * or foreign one is reported and its bytes are left as they were; a disk
 * whose by-path link goes away (what udev does when it is pulled) is missing,
 * and when the link comes back it is mounted again and rejoins the ring with
 * its recordings. Plus fuzz of the two byte parsers (device signatures,
 * /proc/self/mountinfo).
 */
import t from 'tap';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, closeSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { Bays, identifyContent, mounts, parseMountInfo, PROBE_BYTES } from '../../../firmware/storage/bays.js';
import { DiskMonitor } from '../../../firmware/storage/disk-monitor.js';
import { formatDisk } from '../../../firmware/storage/disk.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { H264, captureEvents, frame, loopUnavailable, readAll } from './helpers.js';

t.setTimeout(120_000);
const skip = loopUnavailable();
const T0 = Date.UTC(2026, 0, 1) * 1000;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Loop devices behind by-path-like symlinks, all undone at teardown (even on failure). */
function loopBays(t: { teardown(fn: () => void): void }, n: number) {
  const base = mkdtempSync(join(tmpdir(), 'bays-'));
  const devs: string[] = [];
  const mountRoot = join(base, 'disks');
  t.teardown(() => {
    for (const m of [...readMounts()].filter((m) => m.startsWith(base))) sh('umount', ['-l', m]);
    for (const d of devs) sh('losetup', ['-d', d]);
    rmSync(base, { recursive: true, force: true });
  });
  const bays = [];
  for (let i = 0; i < n; i++) {
    const img = join(base, `d${i}.img`);
    sh('truncate', ['-s', '32M', img]);
    const dev = sh('losetup', ['-f', '--show', img]);
    devs.push(dev);
    sh('blockdev', ['--setrw', dev]);
    const link = join(base, `pci-0000:00:1f.2-ata-${i + 1}`);
    symlinkSync(dev, link);
    bays.push({ bay: `bay${i + 1}`, path: link, kind: 'block' as const, dev, img, link });
  }
  return { base, mountRoot, bays };
}

function readMounts(): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountPoint);
}

function head(dev: string): string {
  const fd = openSync(dev, 'r');
  try {
    const b = Buffer.alloc(PROBE_BYTES);
    readSync(fd, b, 0, b.length, 0);
    return createHash('sha256').update(b).digest('hex');
  } finally {
    closeSync(fd);
  }
}

t.test('prepare: ext4 is mounted, empty and foreign disks are reported and untouched', { skip }, async (t) => {
  const { mountRoot, bays: lb } = loopBays(t, 4);
  sh('mkfs.ext4', ['-q', '-F', lb[0]!.dev]);
  writeFileSync(lb[2]!.img, Buffer.concat([Buffer.from('XFSB'), Buffer.alloc(1020)]), { flag: 'r+' });
  sh('mkfs.ext2', ['-q', '-F', lb[3]!.dev]);
  const before = lb.map((b) => head(b.dev));
  const log = memoryLogger('bays');
  const bays = new Bays({ bays: [...lb.map(({ bay, path, kind }) => ({ bay, path, kind })), { bay: 'sim', path: '/nonexistent-dir', kind: 'directory' as const }], mountRoot, log });
  const r = await bays.prepareAll();
  t.match(r[0], { state: 'mounted', content: 'ext4', mountPoint: join(mountRoot, 'bay1'), storePath: join(mountRoot, 'bay1', 'dvr') });
  t.ok((await mounts()).some((m) => m.mountPoint === join(mountRoot, 'bay1') && m.source === lb[0]!.dev && m.fsType === 'ext4'), 'mounted as ext4');
  t.match(r[1], { state: 'unformatted', content: 'empty' });
  t.match(r[2], { state: 'foreign', content: 'xfs' });
  t.match(r[3], { state: 'foreign', content: 'ext2/ext3' });
  t.match(r[4], { state: 'directory', storePath: '/nonexistent-dir' });
  t.same(lb.slice(1).map((b) => head(b.dev)), before.slice(1), 'the empty and foreign disks were not written');
  t.ok(log.ring.tail(20, 'warn').some((x) => x.msg === 'bay bay2 is unformatted'), 'reported in the log');
  t.match(await bays.prepare('bay1'), { state: 'mounted' }, 'already mounted: left as is');
  t.match(bays.diskConfigs()[0], { name: 'bay1', path: join(mountRoot, 'bay1', 'dvr'), device: lb[0]!.link });
  t.same(await bays.diskConfigs()[1]!.absent!(), { state: 'unformatted', detail: 'no file system (dvr disk format)' }, 'the store is told why bay2 has no store');
  t.match(await bays.diskConfigs()[2]!.absent!(), { state: 'foreign', detail: /holds xfs/ });
  t.equal(await bays.diskConfigs()[0]!.absent!(), undefined, 'a mounted bay is not explained away');
  // Mounted somewhere else: left alone.
  const other = join(mountRoot, 'elsewhere');
  mkdirSync(other, { recursive: true });
  await bays.unmount('bay1');
  t.notOk((await mounts()).some((m) => m.mountPoint === join(mountRoot, 'bay1')), 'unmounted');
  t.equal(await bays.unmount('bay1'), false, 'unmounting twice is a no-op');
  sh('mount', [lb[0]!.dev, other]);
  t.match(await bays.prepare('bay1'), { state: 'failed', detail: /mounted at .*elsewhere.*left alone/ });
  await t.rejects(bays.mkfs('bay1'), /is mounted at/, 'mkfs refuses a mounted disk');
  sh('umount', [other]);
  await t.rejects(bays.prepare('nope'), /no bay "nope"/);
  await t.rejects(bays.mkfs('sim'), /not a block-device bay/);
  rmSync(lb[1]!.link);
  t.match(await bays.prepare('bay2'), { state: 'missing', detail: /no such device/ });
  symlinkSync(lb[1]!.img, lb[1]!.link);
  t.match(await bays.prepare('bay2'), { state: 'failed', detail: /not a block device/ });
});

t.test('a block bay pulled while recording and put back', { skip }, async (t) => {
  const { mountRoot, bays: lb } = loopBays(t, 2);
  const log = memoryLogger('storage');
  for (const b of lb) sh('mkfs.ext4', ['-q', '-F', '-m', '0', b.dev]);
  const bays = new Bays({ bays: lb.map(({ bay, path, kind }) => ({ bay, path, kind })), mountRoot, log });
  await bays.start(); // as the supervisor does, before the store
  const storeId = 'b'.repeat(32);
  for (const c of bays.diskConfigs()) {
    mkdirSync(c.path);
    await formatDisk(c.path, { storeId, blockSize: 256 * 1024, indexBytes: 8 * 1024, reserveBytes: 1024 * 1024 });
  }
  const bus = new EventBus();
  const states = captureEvents(bus, 'diskState');
  const store = new RingStore({ bus, log, disks: bays.diskConfigs(), format: { blockSize: 256 * 1024 } });
  await store.start();
  t.same(store.disks().map((d) => d.state), ['ok', 'ok']);
  const monitor = new DiskMonitor({
    store, log,
    onDeviceBack: async (c) => void (await bays.prepare(c.name)),
    onDetached: async (c) => void (await bays.unmount(c.name)),
  });
  store.setStreamInfo('c', 'main', H264);
  let n = 0;
  const rec = async (count: number) => {
    for (const end = n + count; n < end; n++) {
      store.append('c', 'main', frame('c', n, T0, { size: 3000 }));
      if (n % 50 === 49) await store.flush();
    }
    await store.flush();
  };
  await rec(300);
  rmSync(lb[0]!.link); // udev removes the by-path link of a pulled disk
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'missing');
  t.match(store.disks()[0]!.detail, /device gone/);
  t.notOk((await mounts()).some((m) => m.mountPoint === join(mountRoot, 'bay1')), 'the dead file system was unmounted');
  await rec(300);
  t.equal((await readAll(store, 'c', 'main', frame('c', 300, T0).time)).length, 300, 'recording went on on bay2');
  symlinkSync(lb[0]!.dev, lb[0]!.link);
  await monitor.check();
  t.equal(store.disks()[0]!.state, 'ok', 'back: mounted again and in the ring');
  const all = await readAll(store, 'c', 'main');
  t.equal(all.length, 600, 'with its recordings');
  t.same(states.filter((s) => s.disk === 'bay1').map((s) => s.state), ['ok', 'missing', 'ok']);
  await store.stop();
  await bays.stop();
  t.ok((await mounts()).some((m) => m.mountPoint === join(mountRoot, 'bay1')), 'stopping leaves the disks mounted');
});

t.test('identifyContent: any bytes give a name, never an exception', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: PROBE_BYTES + 16 }), (b) => typeof identifyContent(b) === 'string'), { numRuns: 2000 });
  const ext = Buffer.alloc(2048);
  ext.writeUInt16LE(0xef53, 1024 + 56);
  t.equal(identifyContent(ext), 'ext2/ext3');
  ext.writeUInt32LE(0x40, 1024 + 96);
  t.equal(identifyContent(ext), 'ext4');
  t.equal(identifyContent(Buffer.alloc(PROBE_BYTES)), 'empty');
  const sig = (off: number, s: string) => {
    const b = Buffer.alloc(PROBE_BYTES);
    b.write(s, off, 'latin1');
    return identifyContent(b);
  };
  t.equal(sig(0x10040, '_BHRfS_M'), 'btrfs');
  t.equal(sig(3, 'NTFS    '), 'ntfs');
  t.equal(sig(3, 'EXFAT   '), 'exfat');
  t.equal(sig(0, 'LUKS\xba\xbe'), 'luks');
  t.equal(sig(4086, 'SWAPSPACE2'), 'swap');
  t.equal(sig(512, 'EFI PART'), 'partition table (GPT)');
  t.equal(sig(0x52, 'FAT32'), 'fat');
  t.equal(sig(510, '\x55\xaa'), 'partition table (MBR)');
  t.equal(sig(100, 'x'), 'unknown data');
  t.equal(identifyContent(new Uint8Array(0)), 'empty');
});

t.test('parseMountInfo: real lines, escapes, and garbage', async (t) => {
  const text = '36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 - ext4 /dev/loop3 rw,errors=continue\nbad line\n37 1 0:5 / /proc rw - proc proc rw\n';
  t.same(parseMountInfo(text), [
    { mountPoint: '/mnt/my disk', fsType: 'ext4', source: '/dev/loop3' },
    { mountPoint: '/proc', fsType: 'proc', source: 'proc' },
  ]);
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => Array.isArray(parseMountInfo(s))), { numRuns: 2000 });
  const name = fc.stringMatching(/^[a-z0-9 /\\]{1,20}$/);
  fc.assert(
    fc.property(name, name, (mp, src) => {
      const esc = (x: string) => x.replace(/[\\ ]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
      const [m] = parseMountInfo(`1 2 3:4 / ${esc(mp)} rw - ext4 ${esc(src)} rw\n`);
      return m?.mountPoint === mp && m.source === src;
    }),
    { numRuns: 1000 },
  );
  t.ok((await mounts()).some((m) => m.mountPoint === '/'), 'this machine\'s root is found');
});
