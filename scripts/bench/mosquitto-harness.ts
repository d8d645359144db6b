/**
 * A real mosquitto on a free loopback port, for the benchmarks that measure
 * what reaches the broker (mqtt-alarm-drain, alarm-relay-latency). Quiet and
 * without persistence: the figures are the firmware's, not the broker's disk.
 * The tests have their own, logging one (test/firmware/mqtt/broker.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts mosquitto with its config in `dir`; resolves once the port accepts connections. */
export async function startBroker(dir: string, port: number): Promise<ChildProcess> {
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'log_dest none'];
  // As root mosquitto would drop to the `mosquitto` user; stay as we are, as the tests' broker does.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return proc;
    await sleep(10);
  }
  proc.kill('SIGTERM');
  throw new Error('mosquitto did not start');
}

/** "mosquitto version 2.0.x", for the machine line of a benchmark's output. */
export function mosquittoVersion(): string {
  return spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
}
