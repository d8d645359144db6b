/**
 * A real mosquitto for the MQTT tests, on a free loopback port, and a
 * subscriber that records what a user (or Home Assistant) would see.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { freePort, waitFor } from '../../helpers/firmware.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface BrokerOptions {
  /** user → password; anonymous access is refused when given. */
  users?: Record<string, string>;
  /** Keep sessions and queued messages across a restart (saved on a clean stop). */
  persistence?: boolean;
  /** PEM files: the listener speaks TLS only (mqtts://). */
  tls?: { cafile: string; certfile: string; keyfile: string };
}

export class Broker {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'mqtt-broker-'));

  private constructor(
    readonly port: number,
    private readonly opts: BrokerOptions,
  ) {}

  static async start(opts: BrokerOptions = {}): Promise<Broker> {
    const b = new Broker(await freePort(), opts);
    b.writeConfig();
    await b.start();
    return b;
  }

  get url(): string {
    return `${this.opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  private writeConfig(): void {
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      `log_dest file ${join(this.dir, 'mosquitto.log')}`,
      'log_type all',
      // The default (1,000) would drop messages queued for a reconnecting subscriber during a storm.
      'max_queued_messages 100000',
    ];
    if (this.opts.tls) lines.push(`cafile ${this.opts.tls.cafile}`, `certfile ${this.opts.tls.certfile}`, `keyfile ${this.opts.tls.keyfile}`);
    if (this.opts.users) {
      const pw = join(this.dir, 'passwd');
      writeFileSync(pw, '');
      for (const [u, p] of Object.entries(this.opts.users)) spawnSync('/usr/bin/mosquitto_passwd', ['-b', pw, u, p], { stdio: 'ignore' });
      lines.push('allow_anonymous false', `password_file ${pw}`);
    } else lines.push('allow_anonymous true');
    if (this.opts.persistence) lines.push('persistence true', `persistence_location ${this.dir}/`, 'autosave_interval 0');
    else lines.push('persistence false');
    // As root mosquitto switches to the `mosquitto` user, which could not write the log here.
    if (process.getuid?.() === 0) lines.push('user root');
    writeFileSync(join(this.dir, 'mosquitto.conf'), lines.join('\n') + '\n');
  }

  async start(): Promise<void> {
    this.proc = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitFor(`mosquitto on port ${this.port}`, () => accepts(this.port), 10_000);
    // The port opens a moment before a TLS listener is ready to handshake.
    if (this.opts.tls) await new Promise((r) => setTimeout(r, 100));
  }

  /** A clean stop (SIGTERM): mosquitto saves its persistence file. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'mosquitto.log'), 'utf8');
    } catch {
      return '';
    }
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl. */
export function makeCerts(): { dir: string; cafile: string; certfile: string; keyfile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-tls-'));
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${String(r.stderr)}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=dvr test CA']);
  run(['req', ...key, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext')]);
  return { dir, cafile: f('ca.crt'), certfile: f('server.crt'), keyfile: f('server.key') };
}

export interface Seen {
  topic: string;
  text: string;
  retain: boolean;
  correlation?: string;
}

/** A subscriber that keeps every message it receives. */
export class Watcher {
  readonly seen: Seen[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const c = packet.properties?.correlationData;
      this.seen.push({ topic, text: payload.toString('utf8'), retain: packet.retain, ...(c ? { correlation: c.toString('utf8') } : {}) });
    });
  }

  static async connect(url: string, filters: string[], opts: IClientOptions = {}): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...opts });
    const w = new Watcher(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return w;
  }

  on(topic: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic);
  }

  /** The newest message on a topic, parsed; waits for one matching `pred`. */
  async waitJson<T = Record<string, unknown>>(topic: string, pred: (v: T, s: Seen) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    return waitFor(
      `a message on ${topic}`,
      async () => {
        for (const s of [...this.on(topic)].reverse()) {
          try {
            const v = JSON.parse(s.text) as T;
            if (pred(v, s)) return v;
          } catch {
            // not JSON: not what we wait for
          }
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** What a fresh subscriber finds retained on a topic (as Home Assistant would after a restart). */
export async function retained(url: string, topic: string, timeoutMs = 1500): Promise<string | undefined> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      client.on('message', (t, payload, packet) => {
        if (t === topic && packet.retain) {
          clearTimeout(timer);
          resolve(payload.toString('utf8'));
        }
      });
      void client.subscribeAsync(topic, { qos: 1 });
    });
  } finally {
    await client.endAsync(true);
  }
}
