/** An MqttService wired the way main.ts wires it, with settings a test can change between starts. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../firmware/core/bus.js';
import { Logger, memoryLogger } from '../../../firmware/core/log.js';
import { CONFIG_VERSION, configSchema, type Config } from '../../../firmware/config/schema.js';
import { MqttService, type MqttServiceDeps } from '../../../firmware/mqtt/service.js';
import { spawnTs } from '../../helpers/ts-child.js';
import type { Test } from 'tap';
import type { Watcher } from './broker.js';

export interface Harness {
  bus: EventBus;
  log: Logger;
  svc: MqttService;
  cfg: Config['mqtt'];
  dataDir: string;
}

export function makeService(url: string, opts: { mqtt?: Partial<Config['mqtt']>; deps?: Partial<MqttServiceDeps>; systemName?: string } = {}): Harness {
  const bus = new EventBus();
  const log = opts.deps?.log ?? memoryLogger('mqtt');
  const dataDir = opts.deps?.dataDir ?? mkdtempSync(join(tmpdir(), 'mqtt-data-'));
  const cfg: Config['mqtt'] = { ...configSchema.parse({ version: CONFIG_VERSION }).mqtt, enabled: true, url, ...opts.mqtt };
  const svc = new MqttService({
    bus,
    log,
    settings: () => ({ mqtt: cfg, systemName: opts.systemName ?? 'Shop Front' }),
    dataDir,
    device: { model: 'sim', manufacturer: 'dvr-firmware', swVersion: '0.1.0' },
    reconnectBaseMs: 100,
    reconnectMaxMs: 400,
    ...opts.deps,
  });
  return { bus, log, svc, cfg, dataDir };
}

/** The device topics of the harness defaults. */
export const ROOT = 'dvr/shop_front';

const CHILD = join(import.meta.dirname, 'child.ts');

/** The service in its own process, so it can be killed like a crashing firmware. */
export function child(url: string, dataDir: string): { proc: ChildProcess; out: string[]; send: (line: string) => void; exited: Promise<unknown> } {
  const proc = spawnTs(CHILD, [JSON.stringify({ url, dataDir })], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: string[] = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    out.push(...lines);
  });
  proc.stderr!.on('data', (d) => out.push(String(d)));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return { proc, out, send: (line) => proc.stdin!.write(line + '\n'), exited };
}

export interface Ev {
  id: string;
  seq: number;
  at: number;
  type: string;
}

/** Events as a deduplicating subscriber keeps them: the first copy of each id. */
export function firstCopies(w: Watcher): { events: Ev[]; repeats: number; conflicting: number } {
  const byId = new Map<string, string>();
  const events: Ev[] = [];
  let repeats = 0;
  let conflicting = 0;
  for (const s of w.on(`${ROOT}/events`)) {
    const e = JSON.parse(s.text) as Ev;
    if (e.type !== 'alarm') continue;
    const prev = byId.get(e.id);
    if (prev !== undefined) {
      repeats++;
      if (prev !== s.text) conflicting++;
      continue;
    }
    byId.set(e.id, s.text);
    events.push(e);
  }
  return { events, repeats, conflicting };
}

export function assertComplete(t: Test, got: ReturnType<typeof firstCopies>, firstAt: number, count: number): void {
  t.equal(got.events.length, count, `all ${count} alarms arrived`);
  t.same(
    got.events.map((e) => e.at),
    Array.from({ length: count }, (_, i) => firstAt + i),
    'in the order they were raised',
  );
  t.ok(
    got.events.every((e, i) => i === 0 || e.seq > got.events[i - 1].seq),
    'seq strictly increasing',
  );
  t.equal(new Set(got.events.map((e) => e.at)).size, count, 'none twice as a new event (a new id for an old alarm)');
  t.equal(got.conflicting, 0, 'a repeated id always carries the same event');
}

