import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HardwareWatchdog } from '../../../drivers/watchdog/index.js';

t.comment(
  existsSync('/dev/watchdog')
    ? '/dev/watchdog exists but is not used: opening it would arm a reset of this host'
    : 'no watchdog device on this host: testing against a FIFO read by cat',
);

const dir = mkdtempSync(join(tmpdir(), 'wdt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let fifoCount = 0;

/** A FIFO standing in for /dev/watchdog; `received` resolves to every byte written once the writer closes. */
async function fakeDevice(): Promise<{ path: string; received: Promise<Buffer> }> {
  const path = join(dir, `watchdog${fifoCount++}`);
  execFileSync('mkfifo', [path]);
  const cat = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  cat.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = new Promise<Buffer>((resolve, reject) => {
    cat.on('error', reject);
    cat.on('exit', () => resolve(Buffer.concat(chunks)));
  });
  await new Promise((resolve) => cat.once('spawn', resolve));
  return { path, received };
}

t.test('keepalive falls back to writing a non-V byte; magic close sends exactly V', async (t) => {
  const { path, received } = await fakeDevice();
  const wd = new HardwareWatchdog().open(path); // blocks until cat opens the FIFO
  t.equal(wd.isOpen, true);
  wd.keepalive(); // WDIOC_KEEPALIVE gets ENOTTY on a FIFO
  wd.keepalive();
  wd.close({ magic: true });
  t.equal(wd.isOpen, false);
  t.same([...(await received)], [0x00, 0x00, 'V'.charCodeAt(0)]);
});

t.test('close({ magic: false }) writes nothing, leaving a real watchdog armed', async (t) => {
  const { path, received } = await fakeDevice();
  const wd = new HardwareWatchdog().open(path);
  wd.keepalive();
  wd.close({ magic: false });
  t.same([...(await received)], [0x00]);
  t.doesNotThrow(() => wd.close(), 'closing again is a no-op');
});

t.test('timeouts need a real watchdog: ENOTTY on a FIFO, with a clear message', async (t) => {
  const { path, received } = await fakeDevice();
  const wd = new HardwareWatchdog().open(path);
  t.throws(() => wd.setTimeout(30), {
    name: 'SysError',
    code: 'ENOTTY',
    syscall: 'ioctl',
    message: `ioctl(WDIOC_SETTIMEOUT) on ${path}: ENOTTY (Inappropriate ioctl for device)`,
  });
  t.throws(() => wd.getTimeout(), { code: 'ENOTTY', message: /^ioctl\(WDIOC_GETTIMEOUT\) on / });
  t.throws(() => wd.setTimeout(0), RangeError);
  wd.close();
  t.same([...(await received)], ['V'.charCodeAt(0)], 'default close is the magic close');
});

t.test('misuse is reported, not silently ignored', async (t) => {
  const wd = new HardwareWatchdog();
  t.throws(() => wd.keepalive(), { message: 'watchdog is not open' });
  t.throws(() => wd.open(join(dir, 'missing')), { name: 'SysError', code: 'ENOENT' });
  t.equal(wd.isOpen, false, 'a failed open leaves it closed');
  const { path, received } = await fakeDevice();
  wd.open(path);
  t.throws(() => wd.open(path), { message: `watchdog already open on ${path}` });
  wd.close();
  await received;
});
