import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockDeviceError, describeBlockDevice } from '../../../drivers/disk/index.js';

function loopDevice(t: { teardown(fn: () => void): void }, bytes: number): string | null {
  const img = join(mkdtempSync(join(tmpdir(), 'blk-')), 'disk.img');
  writeFileSync(img, '');
  truncateSync(img, bytes);
  try {
    const dev = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
    // The read-only flag outlives the attachment: clear it, or the next user of this loop device inherits it.
    t.teardown(() => {
      execFileSync('blockdev', ['--setrw', dev]);
      execFileSync('losetup', ['-d', dev]);
    });
    return dev;
  } catch (e) {
    return null;
  }
}

t.test('a real loop device, through a by-path style link', async (t) => {
  const dev = loopDevice(t, 64 * 1024 * 1024);
  if (!dev) {
    t.comment('loop devices are not available on this machine (losetup failed)');
    t.skip('loop devices are not available on this machine (losetup failed)', () => {});
    return;
  }
  const link = join(mkdtempSync(join(tmpdir(), 'bypath-')), 'pci-0000:00:1f.2-ata-1');
  symlinkSync(dev, link);
  const d = await describeBlockDevice(link);
  t.equal(d.node, dev);
  t.equal(d.sizeBytes, 64 * 1024 * 1024);
  t.equal(d.readOnly, false);
  execFileSync('blockdev', ['--setro', dev]);
  t.equal((await describeBlockDevice(dev)).readOnly, true, 'read-only is seen as soon as the kernel says so');
});

t.test('an empty bay and a non-device are told apart', async (t) => {
  await t.rejects(describeBlockDevice('/dev/disk/by-path/no-such-bay'), new BlockDeviceError('/dev/disk/by-path/no-such-bay: no such device', 'missing'));
  await t.rejects(describeBlockDevice(tmpdir()), { code: 'not-block' });
});
