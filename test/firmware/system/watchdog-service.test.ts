import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { WatchdogService } from '../../../firmware/system/watchdog-service.js';

t.test('the watchdog service feeds the device and disarms it on a clean stop', async (t) => {
  t.comment('this host has no watchdog device: a FIFO read by cat stands in for /dev/watchdog, and receives the same bytes');
  const dir = mkdtempSync(join(tmpdir(), 'wd-'));
  const fifo = join(dir, 'watchdog');
  spawnSync('mkfifo', [fifo]);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  const bytes: number[] = [];
  reader.stdout.on('data', (d: Buffer) => bytes.push(...d));
  const log = memoryLogger('watchdog');
  const svc = new WatchdogService(fifo, log, 3); // feeds every 1 s
  await svc.start();
  await new Promise((r) => setTimeout(r, 1300));
  await svc.stop();
  await new Promise<void>((r) => reader.on('exit', () => r()));
  t.ok(bytes.length >= 3, `fed at start and on its interval (${bytes.length} bytes)`);
  t.notOk(bytes.slice(0, -1).includes(0x56), "no feed byte is 'V' (that would arm the magic close)");
  t.equal(bytes.at(-1), 0x56, "the last byte is the magic 'V': a clean stop disarms the watchdog");
  t.match(log.ring.tail().map((r) => r.msg), ['watchdog timeout not settable; using the driver default', 'hardware watchdog armed']);
});
