/**
 * MQTT alarm delivery, against a real mosquitto on loopback:
 *  1. drain: 10,000 alarms raised while the broker is down, then the broker
 *     comes up: time until the broker has acknowledged all of them, time until
 *     a subscriber has them all, and the memory high-water mark meanwhile;
 *  2. latency: 1,000 alarms one at a time (every 5 ms), bus emit → event at a
 *     subscriber in this process (so it includes broker → subscriber), p50/p99.
 * Reference in the same run: bare mqtt.js doing the same publishes (QoS 1, no
 * queue, no journal), so the ratio shows what the service adds.
 *
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-alarm-drain.js
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { EventBus } from '../../firmware/core/bus.js';
import { Logger } from '../../firmware/core/log.js';
import { CONFIG_VERSION, configSchema } from '../../firmware/config/schema.js';
import { MqttService } from '../../firmware/mqtt/service.js';
import { freePort, mosquittoVersion, startBroker } from './mosquitto-harness.js';

const DRAIN_EVENTS = 10_000;
const LATENCY_EVENTS = 1_000;
// A gc() without a command-line flag (run-all starts us with plain `node`), to measure what the queue retains.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (x: number) => `${x.toFixed(2)} ms`;
const mb = (x: number) => `${(x / 1048576).toFixed(1)} MiB`;

class MemWatch {
  rss = 0;
  heap = 0;
  private timer = setInterval(() => this.sample(), 5);
  sample(): void {
    const m = process.memoryUsage();
    this.rss = Math.max(this.rss, m.rss);
    this.heap = Math.max(this.heap, m.heapUsed);
  }
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

function makeService(url: string, dataDir: string) {
  const bus = new EventBus();
  const log = new Logger('mqtt', { level: 'error', sink: () => {} });
  const mqttCfg = { ...configSchema.parse({ version: CONFIG_VERSION }).mqtt, enabled: true, url };
  const svc = new MqttService({
    bus,
    log,
    settings: () => ({ mqtt: mqttCfg, systemName: 'Bench' }),
    dataDir,
    device: { model: 'bench', manufacturer: 'dvr-firmware', swVersion: '0' },
    reconnectBaseMs: 50,
    reconnectMaxMs: 50,
  });
  return { bus, svc };
}

async function waitUntil(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(1);
  }
}

async function drain(dir: string): Promise<void> {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const dataDir = join(dir, 'drain-data');
  gc();
  const base = process.memoryUsage();
  const mem = new MemWatch();
  const { bus, svc } = makeService(url, dataDir);
  await svc.start();
  await sleep(300); // a few failed connection attempts, so their cost is not counted as the queue's
  gc();
  const queueBase = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < DRAIN_EVENTS; i++) bus.emit('alarm', { source: 'gpio', input: `in${(i % 4) + 1}`, active: i % 2 === 0, at: Date.now() });
  const emitMs = performance.now() - t0;
  await sleep(300); // the journal's fsync batch
  const journalBytes = statSync(join(dataDir, 'mqtt', 'queue.jsonl')).size;
  gc();
  const retainedHeap = process.memoryUsage().heapUsed - queueBase;

  const broker = await startBroker(dir, port);
  const up = performance.now();
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5 });
  let got = 0;
  let gotAll = 0;
  sub.on('message', (_t, payload) => {
    if (payload.includes('"type":"alarm"') && ++got === DRAIN_EVENTS) gotAll = performance.now();
  });
  await sub.subscribeAsync('dvr/bench/events', { qos: 1 });
  await waitUntil(() => svc.status().connected);
  const connected = performance.now();
  await waitUntil(() => svc.status().queued === 0);
  const acked = performance.now();
  await waitUntil(() => gotAll > 0, 30_000).catch(() => {});
  mem.stop();
  await svc.stop();

  // Reference: bare mqtt.js publishing the same count, QoS 1, 64 in flight, to the same subscriber.
  let refGot = 0;
  sub.on('message', (t) => void (t === 'ref/events' && refGot++));
  await sub.subscribeAsync('ref/events', { qos: 1 });
  const ref = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const payload = JSON.stringify({ id: '00000000-0000-0000-0000-000000000000', seq: 1, time: new Date().toISOString(), type: 'alarm', source: 'gpio', input: 'in1', active: true });
  const r0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < DRAIN_EVENTS) {
        next++;
        await ref.publishAsync('ref/events', payload, { qos: 1 });
        await ref.publishAsync('ref/state', payload, { qos: 1, retain: true });
      }
    }),
  );
  await waitUntil(() => refGot >= DRAIN_EVENTS, 30_000).catch(() => {});
  const refMs = performance.now() - r0;
  await ref.endAsync();
  await sub.endAsync();
  broker.kill('SIGTERM');

  const drainMs = acked - connected;
  console.log(`drain: ${DRAIN_EVENTS} alarms queued with the broker down (emit ${ms(emitMs)} total, ${((emitMs * 1000) / DRAIN_EVENTS).toFixed(1)} µs each; journal ${mb(journalBytes)})`);
  console.log(`  broker up → service connected: ${ms(connected - up)} (reconnect delay 50 ms in this run)`);
  console.log(`  connected → all acknowledged by the broker: ${ms(drainMs)} (${Math.round(DRAIN_EVENTS / (drainMs / 1000))} events/s, 2 messages each)`);
  console.log(`  connected → all at a subscriber: ${gotAll ? ms(gotAll - connected) : `only ${got} arrived`}`);
  console.log(`  reference, bare mqtt.js, same messages, until all at the subscriber: ${ms(refMs)} → service/reference ${(((gotAll || acked) - connected) / refMs).toFixed(2)}×`);
  console.log(`  memory high-water (this process, incl. the subscriber): rss ${mb(mem.rss)} (+${mb(mem.rss - base.rss)}), heap ${mb(mem.heap)} (+${mb(mem.heap - base.heapUsed)})`);
  console.log(`  heap held by the ${DRAIN_EVENTS} queued events after a GC: ${mb(retainedHeap)} (${Math.round(retainedHeap / DRAIN_EVENTS)} bytes each)`);
}

async function latency(dir: string): Promise<void> {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const broker = await startBroker(dir, port);
  const { bus, svc } = makeService(url, join(dir, 'latency-data'));
  await svc.start();
  await waitUntil(() => svc.status().connected);
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  sub.on('message', (topic, payload) => {
    const now = performance.now();
    const e = JSON.parse(payload.toString()) as { type?: string; at: number };
    if (topic === 'ref/events' || e.type === 'alarm') {
      const s = sentAt.get(e.at);
      if (s !== undefined) lat.push(now - s);
    }
  });
  await sub.subscribeAsync(['dvr/bench/events', 'ref/events'], { qos: 1 });
  await sleep(200);

  const run = async (send: (at: number) => void): Promise<number[]> => {
    lat.length = 0;
    sentAt.clear();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const at = 1_000_000 + i;
      sentAt.set(at, performance.now());
      send(at);
      await sleep(5);
    }
    await waitUntil(() => lat.length >= LATENCY_EVENTS, 10_000).catch(() => {});
    return [...lat].sort((a, b) => a - b);
  };
  const service = await run((at) => bus.emit('alarm', { source: 'gpio', input: 'in1', active: true, at }));
  const ref = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const bare = await run((at) => void ref.publishAsync('ref/events', JSON.stringify({ at }), { qos: 1 }));
  await ref.endAsync();
  await svc.stop();
  await sub.endAsync();
  broker.kill('SIGTERM');
  console.log(`latency: ${LATENCY_EVENTS} alarms, one every 5 ms, bus emit → event at a subscriber (via the broker)`);
  console.log(`  service: p50 ${ms(pct(service, 50))}, p99 ${ms(pct(service, 99))}, max ${ms(service.at(-1) ?? NaN)} (${service.length} received; target p99 < 50 ms: ${pct(service, 99) < 50 ? 'met' : 'MISSED'})`);
  console.log(`  reference, bare mqtt.js publish: p50 ${ms(pct(bare, 50))}, p99 ${ms(pct(bare, 99))}`);
}

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${mb(totalmem())} RAM, load average ${loadavg()[0].toFixed(1)}; node ${process.version}; ${mosquittoVersion()}`,
);
const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-'));
try {
  await drain(dir);
  await latency(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
