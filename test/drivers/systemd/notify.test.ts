import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SysError } from '../../../drivers/libc/index.js';
import { SystemdNotifier, sdNotify } from '../../../drivers/systemd/index.js';

// Short base path: sun_path holds only 107 bytes.
const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function abstractBound(name: string): boolean {
  return readFileSync('/proc/net/unix', 'utf8').includes(` @${name}\n`);
}

/**
 * Run socat as the service manager: it receives exactly one datagram, prints
 * it and exits. `send` runs once socat's socket exists.
 */
async function receiveOne(notifySocket: string, send: () => void): Promise<string> {
  const abstract = notifySocket.startsWith('@');
  const address = abstract ? `ABSTRACT-RECVFROM:${notifySocket.slice(1)}` : `UNIX-RECVFROM:${notifySocket}`;
  const socat = spawn('socat', ['-u', address, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  socat.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<number | null>((resolve) => socat.on('exit', resolve));

  const deadline = Date.now() + 5000;
  while (!(abstract ? abstractBound(notifySocket.slice(1)) : existsSync(notifySocket))) {
    if (Date.now() > deadline) {
      socat.kill();
      throw new Error(`socat never bound ${notifySocket}`);
    }
    await sleep(10);
  }
  send();
  const code = await exited;
  if (code !== 0) throw new Error(`socat exited with ${code}`);
  return Buffer.concat(chunks).toString('latin1');
}

t.test('READY=1 and WATCHDOG=1 arrive as exact datagrams on a path socket', async (t) => {
  const env = { NOTIFY_SOCKET: join(dir, 'notify.sock') };
  let sent: boolean | undefined;
  t.equal(await receiveOne(env.NOTIFY_SOCKET, () => (sent = sdNotify('READY=1', env))), 'READY=1');
  t.equal(sent, true);
  const notifier = new SystemdNotifier(env);
  t.equal(await receiveOne(env.NOTIFY_SOCKET, () => notifier.watchdog()), 'WATCHDOG=1');
});

t.test('abstract namespace socket (@name)', async (t) => {
  const env = { NOTIFY_SOCKET: `@dvr-test-${process.pid}` };
  const notifier = new SystemdNotifier(env);
  t.equal(await receiveOne(env.NOTIFY_SOCKET, () => notifier.ready()), 'READY=1');
  t.equal(await receiveOne(env.NOTIFY_SOCKET, () => notifier.stopping()), 'STOPPING=1');
});

t.test('status text cannot smuggle extra assignments', async (t) => {
  const env = { NOTIFY_SOCKET: join(dir, 'status.sock') };
  const received = await receiveOne(env.NOTIFY_SOCKET, () => new SystemdNotifier(env).status('recording 4/4\nREADY=1'));
  t.equal(received, 'STATUS=recording 4/4 READY=1');
});

t.test('without NOTIFY_SOCKET nothing is sent', async (t) => {
  t.equal(sdNotify('READY=1', {}), false);
  t.equal(sdNotify('READY=1', { NOTIFY_SOCKET: '' }), false);
  const notifier = new SystemdNotifier({});
  t.equal(notifier.enabled, false);
  t.equal(notifier.ready(), false);
  t.equal(notifier.watchdog(), false);
});

t.test('a socket nobody listens on is a SysError', async (t) => {
  const path = join(dir, 'nobody-home.sock');
  try {
    sdNotify('READY=1', { NOTIFY_SOCKET: path });
    t.fail('should have thrown');
  } catch (error) {
    t.ok(error instanceof SysError);
    const e = error as SysError;
    t.ok(['ENOENT', 'ECONNREFUSED'].includes(e.code), e.code);
    t.equal(e.syscall, 'sendto');
    t.match(e.message, `sendto on ${path}: ${e.code} (`);
  }
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: `@dvr-nobody-${process.pid}` }), { code: 'ECONNREFUSED' });
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: 'relative/path' }), { code: 'EAFNOSUPPORT' });
});
