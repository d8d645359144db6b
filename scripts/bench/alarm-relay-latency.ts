/**
 * Alarm input edge -> relay change, and -> MQTT message at the broker, on the
 * host: 1,000 alarms, p50/p99 of each, from the same edges.
 *
 * The host has no GPIO chips, so the chip ioctls go to a minimal stand-in
 * (drivers/gpio's overrideSys) while the input request's fd is a real FIFO:
 * each alarm is a 48-byte gpio_v2_line_event record written into it, read by
 * the driver's event thread exactly as from a line request, then through
 * KernelAlarmGpio, the AlarmService (debounce 0, armed) and the `alarm` bus
 * event, which two listeners take, in the order the firmware starts them:
 *  - the MqttService (offline journal, QoS 1) publishing to a real mosquitto
 *    on a free loopback port; that clock stops when the event-stream message
 *    reaches a subscriber of the broker (in this process), the closest
 *    observable point to "at the broker";
 *  - the linkage engine (LinkageService with the box's targets, as main.ts
 *    wires it) and one rule, alarm in1 -> relay1 following the input; that
 *    clock stops at the relay's GPIO_V2_LINE_SET_VALUES_IOCTL.
 * Reference in the same run, alternating alarm by alarm with the firmware's
 * so that a change of load hits both alike: the bare EventWatcher on a second
 * FIFO. Its callback is the relay reference; it then publishes the same two
 * payloads the service sent (event stream + retained state) with bare
 * mqtt.js, QoS 1, to the same broker and subscriber: the MQTT reference. The
 * ratios show what the alarm service, the bus and the MQTT service add to the
 * driver's and mqtt.js's own paths.
 *
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/alarm-relay-latency.js [alarms=1000]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { encodeEvent, EventWatcher, LAYOUT, overrideSys } from '../../drivers/gpio/index.js';
import { close as closeFd, O_NONBLOCK, O_RDONLY, open } from '../../drivers/libc/index.js';
import { AlarmService, KernelAlarmGpio, alarmsConfigSchema } from '../../firmware/alarms/index.js';
import { EventBus } from '../../firmware/core/bus.js';
import { systemClock } from '../../firmware/core/clock.js';
import { Logger } from '../../firmware/core/log.js';
import { CONFIG_VERSION, configSchema } from '../../firmware/config/schema.js';
import { boxTargets } from '../../firmware/linkage/box-targets.js';
import { LinkageService } from '../../firmware/linkage/engine.js';
import { linkageSchema } from '../../firmware/linkage/rules.js';
import { MqttService } from '../../firmware/mqtt/service.js';
import { freePort, mosquittoVersion, startBroker } from './mosquitto-harness.js';

const N = Number(process.argv[2] ?? 1000);
const CHIP = '/dev/gpiochip-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function fifo(dir: string, name: string): { fd: number; writer: number } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const fd = open(path, O_RDONLY | O_NONBLOCK);
  return { fd, writer: openSync(path, 'w') };
}

const dir = mkdtempSync(join(tmpdir(), 'alarm-bench-'));
const input = fifo(dir, 'input');
const reference = fifo(dir, 'reference');
let onRelay: ((on: boolean, at: number) => void) | undefined;
let outputFd = 9000;
const restore = overrideSys({
  open: () => 8000,
  close: (fd) => {
    if (fd === input.fd) closeFd(fd);
  },
  ioctlBuf: (_fd, request, arg) => {
    const buf = Buffer.from((arg as Buffer).buffer, (arg as Buffer).byteOffset, (arg as Buffer).byteLength);
    const io = LAYOUT.ioctls;
    if (request === io.GPIO_V2_GET_LINE_IOCTL) {
      const output = (buf.readBigUInt64LE(288) & BigInt(LAYOUT.constants.GPIO_V2_LINE_FLAG_OUTPUT)) !== 0n;
      buf.writeInt32LE(output ? outputFd++ : input.fd, 588);
    } else if (request === io.GPIO_V2_LINE_GET_VALUES_IOCTL) buf.writeBigUInt64LE(0n, 0);
    else if (request === io.GPIO_V2_LINE_SET_VALUES_IOCTL) onRelay?.((buf.readBigUInt64LE(0) & 1n) === 1n, performance.now());
    return 0;
  },
});

// The broker, and a subscriber that notes when each event-stream message arrives.
const port = await freePort();
const url = `mqtt://127.0.0.1:${port}`;
const broker = await startBroker(dir, port);
const sub = await mqtt.connectAsync(url, { protocolVersion: 5 });
let onMessage: ((topic: string, text: string, at: number) => void) | undefined;
sub.on('message', (topic, payload) => onMessage?.(topic, payload.toString('utf8'), performance.now()));
await sub.subscribeAsync(['dvr/bench/events', 'dvr/bench/alarm/in1/state', 'ref/events'], { qos: 1 });

const line = (name: string, n: number) => ({ name, chip: CHIP, line: n, activeLow: false });
const bus = new EventBus();
const quiet = (name: string) => new Logger(name, { sink: () => {} });
const mqttSettings = { ...configSchema.parse({ version: CONFIG_VERSION }).mqtt, enabled: true, url };
const mqttService = new MqttService({
  bus,
  log: quiet('mqtt'),
  settings: () => ({ mqtt: mqttSettings, systemName: 'Bench' }),
  dataDir: join(dir, 'mqtt-data'),
  device: { model: 'bench', manufacturer: 'dvr-firmware', swVersion: '0' },
});
// main.ts starts the mqtt service before the linkage rules, so its bus listener runs first.
await mqttService.start();
while (!mqttService.status().connected) await sleep(5);
const gpio = new KernelAlarmGpio();
const service = new AlarmService({
  bus,
  clock: systemClock,
  log: quiet('alarms'),
  gpio,
  board: () => ({ alarmInputs: [line('in1', 0)], relays: [line('relay1', 4)], buzzer: null }),
  config: () => alarmsConfigSchema.parse({ inputs: [{ input: 'in1', debounceMs: 0 }] }),
  timezone: () => 'UTC',
});
// The relay through the linkage engine and the box's own targets, as the firmware wires them: one rule.
const linkage = new LinkageService({
  bus,
  clock: systemClock,
  log: quiet('linkage'),
  rules: () => linkageSchema.parse({ rules: [{ id: 'in1', name: 'Input 1', trigger: { type: 'alarm', input: 'in1' }, actions: [{ type: 'relay', output: 'relay1', mode: 'follow', seconds: 0 }] }] }).rules,
  timezone: () => 'UTC',
  targets: boxTargets({ bus, clock: systemClock, channels: () => [], alarms: service, mqttEnabled: false }),
});
await service.start();
await linkage.start();

let seq = 0;
const record = (edge: 'rising' | 'falling') => encodeEvent({ timestampNs: process.hrtime.bigint(), edge, offset: 0, seqno: ++seq, lineSeqno: seq });

/** The service's last messages, published again by the reference. */
const payloads = { events: '', state: '' };

/** The time the next event-stream message on `topic` arrives (for the service's, the one with `active`). */
function arrival(topic: string, active?: boolean): Promise<number> {
  return new Promise((resolve) => {
    onMessage = (t, text, at) => {
      if (t === 'dvr/bench/alarm/in1/state') payloads.state = text;
      if (t !== topic) return;
      if (active !== undefined) {
        const e = JSON.parse(text) as { type?: string; active?: boolean };
        if (e.type !== 'alarm' || e.active !== active) return;
        payloads.events = text;
      }
      resolve(at);
    };
  });
}

interface Sample {
  relay: number;
  mqtt: number;
}

/** One alarm through the firmware: rising edge timed, falling edge waited for (relay off, OFF published). */
async function serviceAlarm(): Promise<Sample> {
  let sample: Sample | undefined;
  for (const edge of ['rising', 'falling'] as const) {
    const on = edge === 'rising';
    const switched = new Promise<number>((r) => (onRelay = (value, at) => value === on && r(at)));
    const published = arrival('dvr/bench/events', on);
    const t0 = performance.now();
    writeSync(input.writer, record(edge));
    const [relayAt, mqttAt] = await Promise.all([switched, published]);
    sample ??= { relay: relayAt - t0, mqtt: mqttAt - t0 };
  }
  return sample!;
}

const watcher = new EventWatcher();
const bare = await mqtt.connectAsync(url, { protocolVersion: 5 });
let called: ((at: number) => void) | undefined;
const stopWatching = await watcher.watch(
  { fd: reference.fd, chip: 'reference' },
  {
    events: () => {
      called?.(performance.now());
      void bare.publishAsync('ref/events', payloads.events, { qos: 1 });
      void bare.publishAsync('ref/alarm/in1/state', payloads.state, { qos: 1, retain: true });
    },
    error: () => {},
  },
);

/** One edge through the bare watcher and bare mqtt.js. */
async function referenceAlarm(): Promise<Sample> {
  const calledAt = new Promise<number>((r) => (called = r));
  const published = arrival('ref/events');
  const t0 = performance.now();
  writeSync(reference.writer, record('rising'));
  const [relayAt, mqttAt] = await Promise.all([calledAt, published]);
  return { relay: relayAt - t0, mqtt: mqttAt - t0 };
}

const ours: Sample[] = [];
const ref: Sample[] = [];
for (let i = 0; i < N; i++) {
  ours.push(await serviceAlarm());
  await sleep(2);
  ref.push(await referenceAlarm());
  await sleep(2);
}
await stopWatching();
await watcher.close();
await bare.endAsync();
await linkage.stop();
await service.stop();
await mqttService.stop();
await sub.endAsync();
broker.kill('SIGTERM');
restore();
closeSync(input.writer);
closeSync(reference.writer);
closeFd(reference.fd);
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(3);
const of = (xs: Sample[], k: keyof Sample) => xs.map((x) => x[k]);
const line3 = (xs: number[]) => `p50 ${f(pct(xs, 50))} ms, p99 ${f(pct(xs, 99))} ms, max ${f(Math.max(...xs))} ms`;
const ratio = (a: number[], b: number[]) => `p50 ${(pct(a, 50) / pct(b, 50)).toFixed(2)}, p99 ${(pct(a, 99) / pct(b, 99)).toFixed(2)}`;
const target = (xs: number[]) => `target p99 < 50 ms: ${pct(xs, 99) < 50 ? 'met' : 'NOT met'}`;
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}; ${mosquittoVersion()}`);
console.log(`alarm edge -> relay (event thread, AlarmService, bus, rule, SET_VALUES), ${N} alarms: ${line3(of(ours, 'relay'))}`);
console.log(`alarm edge -> MQTT event at a subscriber of the broker (event thread, AlarmService, bus, MqttService, mosquitto), ${N} alarms: ${line3(of(ours, 'mqtt'))}`);
console.log(`reference: edge -> EventWatcher callback, ${N} events: ${line3(of(ref, 'relay'))}`);
console.log(`reference: edge -> EventWatcher callback -> bare mqtt.js publish of the same payloads -> subscriber, ${N} events: ${line3(of(ref, 'mqtt'))}`);
console.log(`ratio relay ${ratio(of(ours, 'relay'), of(ref, 'relay'))}; ${target(of(ours, 'relay'))}`);
console.log(`ratio MQTT ${ratio(of(ours, 'mqtt'), of(ref, 'mqtt'))}; ${target(of(ours, 'mqtt'))}`);
