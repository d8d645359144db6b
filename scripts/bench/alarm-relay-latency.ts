/**
 * Alarm input edge -> relay change, on the host: 1,000 alarms, p50/p99.
 *
 * The host has no GPIO chips, so the chip ioctls go to a minimal stand-in
 * (drivers/gpio's overrideSys) while the input request's fd is a real FIFO:
 * each alarm is a 48-byte gpio_v2_line_event record written into it, read by
 * the driver's event thread exactly as from a line request, then through
 * KernelAlarmGpio, the AlarmService (debounce 0, armed), the `alarm` bus event
 * and a one-line rule that switches a relay; the clock stops at the relay's
 * GPIO_V2_LINE_SET_VALUES_IOCTL. Reference in the same run: the bare
 * EventWatcher on a second FIFO (write -> events callback), so the ratio shows
 * what the service and the bus add to the driver's own path.
 *
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/alarm-relay-latency.js [alarms=1000]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeEvent, EventWatcher, LAYOUT, overrideSys } from '../../drivers/gpio/index.js';
import { close as closeFd, O_NONBLOCK, O_RDONLY, open } from '../../drivers/libc/index.js';
import { AlarmService, KernelAlarmGpio, alarmsConfigSchema } from '../../firmware/alarms/index.js';
import { EventBus } from '../../firmware/core/bus.js';
import { systemClock } from '../../firmware/core/clock.js';
import { Logger } from '../../firmware/core/log.js';

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
let onRelay: ((on: boolean) => void) | undefined;
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
    else if (request === io.GPIO_V2_LINE_SET_VALUES_IOCTL) onRelay?.((buf.readBigUInt64LE(0) & 1n) === 1n);
    return 0;
  },
});

const line = (name: string, n: number) => ({ name, chip: CHIP, line: n, activeLow: false });
const bus = new EventBus();
const gpio = new KernelAlarmGpio();
const service = new AlarmService({
  bus,
  clock: systemClock,
  log: new Logger('alarms', { sink: () => {} }),
  gpio,
  board: () => ({ alarmInputs: [line('in1', 0)], relays: [line('relay1', 4)], buzzer: null }),
  config: () => alarmsConfigSchema.parse({ inputs: [{ input: 'in1', debounceMs: 0 }] }),
  timezone: () => 'UTC',
});
bus.on('alarm', (e) => void service.relay('relay1', e.active));
await service.start();

let seq = 0;
const record = (edge: 'rising' | 'falling') => encodeEvent({ timestampNs: process.hrtime.bigint(), edge, offset: 0, seqno: ++seq, lineSeqno: seq });

async function serviceRun(): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    for (const edge of ['rising', 'falling'] as const) {
      const done = new Promise<void>((r) => (onRelay = (on) => on === (edge === 'rising') && r()));
      const t0 = performance.now();
      writeSync(input.writer, record(edge));
      await done;
      if (edge === 'rising') out.push(performance.now() - t0);
    }
    await sleep(2);
  }
  return out;
}

async function referenceRun(): Promise<number[]> {
  const watcher = new EventWatcher();
  let resolve: (() => void) | undefined;
  const stop = await watcher.watch({ fd: reference.fd, chip: 'reference' }, { events: () => resolve?.(), error: () => {} });
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const done = new Promise<void>((r) => (resolve = r));
    const t0 = performance.now();
    writeSync(reference.writer, record('rising'));
    await done;
    out.push(performance.now() - t0);
    await sleep(2);
  }
  await stop();
  await watcher.close();
  return out;
}

const ours = await serviceRun();
const ref = await referenceRun();
await service.stop();
restore();
closeSync(input.writer);
closeSync(reference.writer);
closeFd(reference.fd);
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(3);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`alarm edge -> relay (event thread, AlarmService, bus, rule, SET_VALUES), ${N} alarms: p50 ${f(pct(ours, 50))} ms, p99 ${f(pct(ours, 99))} ms, max ${f(Math.max(...ours))} ms`);
console.log(`reference: edge -> EventWatcher callback, ${N} events: p50 ${f(pct(ref, 50))} ms, p99 ${f(pct(ref, 99))} ms`);
console.log(`ratio p50 ${(pct(ours, 50) / pct(ref, 50)).toFixed(2)}, p99 ${(pct(ours, 99) / pct(ref, 99)).toFixed(2)}; target p99 < 50 ms: ${pct(ours, 99) < 50 ? 'met' : 'NOT met'}`);
