// A real NTP server for tests: Debian's chronyd in the foreground on a free
// loopback port, serving its own clock at stratum 8 and never setting the
// machine's (-x). make test unpacks it under var/tools (installing the
// package would replace the host's timesyncd).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryNtp } from '../../../../firmware/net/ntp/client.js';
import { freeUdpPort } from './fake-server.js';

const UNPACKED = fileURLToPath(new URL('../../../../var/tools/chrony/usr/sbin/chronyd', import.meta.url));
export const CHRONYD = [UNPACKED, '/usr/sbin/chronyd', '/sbin/chronyd'].find((p) => existsSync(p)) ?? 'chronyd';

export interface Chronyd {
  port: number;
  /** Stops it and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** A running chronyd answering on 127.0.0.1:port, or why none can run here (the caller skips, saying so). */
export async function startChronyd(): Promise<Chronyd | { skip: string }> {
  if (spawnSync(CHRONYD, ['--version']).status !== 0) return { skip: "no chronyd (make deps-test unpacks Debian's into var/tools/chrony)" };
  const dir = mkdtempSync(join(tmpdir(), 'chronyd-'));
  const port = await freeUdpPort();
  const conf = join(dir, 'chrony.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bindaddress 127.0.0.1',
      'allow 127.0.0.1',
      // With no sources, its own clock is served as synchronised at this stratum.
      'local stratum 8',
      // No command port and no command socket (/run/chrony/chronyd.sock would be shared with a system chronyd).
      'cmdport 0',
      'bindcmdaddress /',
      `pidfile ${join(dir, 'chronyd.pid')}`,
      '',
    ].join('\n'),
  );
  // -d: foreground, log to stderr; -x: never adjust the system clock. As root
  // it would drop to the _chrony user once started, which then cannot remove
  // its pid file from our private temporary directory: -u root stays root.
  // As another user, -U lets it start at all (it needs no privilege with -x).
  const args = ['-d', '-x', '-f', conf, ...(process.getuid?.() === 0 ? ['-u', 'root'] : ['-U'])];
  const child = spawn(CHRONYD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const gone = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (!gone()) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // chronyd answers within a moment of starting; until then the port is closed (unreachable).
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    if (gone()) break;
    try {
      await queryNtp('127.0.0.1', { port, timeoutMs: 1000 });
      return { port, stop };
    } catch (e) {
      last = e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  await stop();
  if (gone()) return { skip: `chronyd could not run here (${CHRONYD} ${args.join(' ')}) ${spawnError ? String(spawnError) : log.trim().split('\n').slice(-3).join(' | ')}` };
  throw new Error(`chronyd never answered: ${String(last)}\n${log}`);
}
