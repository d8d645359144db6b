// Event recording as an installer checks it: a channel set to "events" holds
// nothing on disk until a linkage rule fires, then the recording starts on a
// keyframe before the event (pre-record) and ends after it (post-record).
// The store is the real one on real disks; the rule engine is the real one.
import t, { type Test } from 'tap';
import { RecordGate, type RecordMode } from '../../../firmware/channels/record-gate.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { boxTargets } from '../../../firmware/linkage/box-targets.js';
import { LinkageService } from '../../../firmware/linkage/engine.js';
import { ruleSchema, type Rule } from '../../../firmware/linkage/rules.js';
import type { Frame } from '../../../firmware/media/types.js';
import { preRecordMs } from '../../../firmware/wiring/recording.js';
import { AAC, H264, frame, makeDisks, readAll, storeWith } from '../storage/helpers.js';

t.setTimeout(300_000);

const START_MS = Date.UTC(2026, 0, 1, 12);
const S = 1_000_000; // µs in a second

interface Rig {
  clock: ManualClock;
  bus: EventBus;
  gate: RecordGate;
  store: ReturnType<typeof storeWith>['store'];
  warnings: LogRecord[];
  /** Feeds `seconds` of 25 fps video (keyframe each second) and audio to each channel, the clock following. */
  feed(seconds: number): Promise<void>;
  fed: Map<string, Frame[]>;
}

async function rig(t: Test, modes: Record<string, RecordMode>, rules: unknown[], maxBufferBytes?: number): Promise<Rig> {
  const d = makeDisks(1, 64, 'gate');
  t.teardown(d.cleanup);
  const clock = new ManualClock(START_MS);
  const bus = new EventBus();
  const warnings: LogRecord[] = [];
  const log = new Logger('test', { level: 'debug', sink: (r) => void (r.level === 'warn' && warnings.push(r)) });
  const { store } = storeWith([d.disks[0]!.path], { clock, bus, maxGapMs: 2000, format: { blockSize: 1024 * 1024, indexBytes: 16 * 1024, blockCount: 40, reserveBytes: 0 } });
  await store.start();
  t.teardown(() => store.stop());
  const parsed: Rule[] = rules.map((r) => ruleSchema.parse(r));
  const gate = new RecordGate({ store, clock, log, mode: (c) => modes[c] ?? 'off', preRecordMs: preRecordMs(() => parsed), ...(maxBufferBytes ? { maxBufferBytes } : {}) });
  const linkage = new LinkageService({
    bus,
    clock,
    log,
    rules: () => parsed,
    timezone: () => 'UTC',
    targets: boxTargets({ bus, clock, channels: () => Object.keys(modes), recorder: gate, mqttEnabled: false }),
  });
  await linkage.start();
  t.teardown(() => linkage.stop());
  const channels = Object.keys(modes);
  for (const c of channels) {
    gate.setStreamInfo(c, 'main', H264);
    gate.setStreamInfo(c, 'audio', AAC);
  }
  const fed = new Map<string, Frame[]>(channels.map((c) => [c, []]));
  let i = 0;
  return {
    clock,
    bus,
    gate,
    store,
    warnings,
    fed,
    async feed(seconds) {
      for (const end = i + seconds * 25; i < end; i++) {
        await clock.advance(i === 0 ? 0 : 40);
        for (const c of channels) {
          const f = frame(`${c}-main`, i, START_MS * 1000);
          fed.get(c)!.push(f);
          gate.append(c, 'main', f);
          if (i % 2 === 0) gate.append(c, 'audio', { time: f.time + 5, keyframe: true, data: frame(`${c}-audio`, i, 0, { size: 200 }).data });
        }
      }
    },
  };
}

const at = (f: Frame) => (f.time - START_MS * 1000) / S;
const settle = () => new Promise((r) => setImmediate(r));

t.test('events mode: a motion rule records from the keyframe before its pre-record to its post-record, nothing else', async (t) => {
  const r = await rig(t, { cam1: 'events', cam2: 'continuous', cam3: 'off' }, [
    { id: 'm1', name: 'Motion on cam1', trigger: { type: 'motion', channel: 'cam1' }, actions: [{ type: 'record', channels: ['cam1'], preSec: 5, postSec: 10 }] },
  ]);
  await r.feed(20.5); // 0 .. 20.48 s
  r.bus.emit('motion', { channel: 'cam1', active: true, at: r.clock.now() });
  await settle();
  await r.feed(10); // motion lasts ten seconds
  r.bus.emit('motion', { channel: 'cam1', active: false, at: r.clock.now() });
  await settle();
  await r.feed(20);
  await r.store.flush();

  const back = await readAll(r.store, 'cam1', 'main');
  t.ok(back.length > 0, 'the event was recorded');
  t.equal(at(back[0]!), 15, 'starts at the keyframe at 15 s: 5 s before the motion at 20.48 s, on a keyframe');
  t.ok(back[0]!.keyframe, 'the first frame on disk is a keyframe');
  const last = at(back[back.length - 1]!);
  t.ok(last >= 40.4 && last <= 40.52, `ends 10 s after the motion ended at 30.48 s (last frame at ${last} s)`);
  const fed = r.fed.get('cam1')!;
  const first = fed.findIndex((f) => f.time === back[0]!.time);
  t.ok(back.every((f, k) => Buffer.compare(f.data, fed[first + k]!.data) === 0 && f.time === fed[first + k]!.time), 'every frame in the window, bit-exact and none missing');
  const audio = await readAll(r.store, 'cam1', 'audio');
  t.ok(audio.length > 0 && at(audio[0]!) >= 15 && at(audio[audio.length - 1]!) <= 40.52, 'audio within the same window');

  const tl = r.store.timeline('cam1', 'main', START_MS * 1000, (START_MS + 50_000) * 1000);
  t.same(tl.segments.map((s) => [(s.start - START_MS * 1000) / S, Math.round((s.end - START_MS * 1000) / 1e4) / 100]), [[15, last]], 'the timeline shows one recorded segment');

  t.equal((await readAll(r.store, 'cam2', 'main')).length, r.fed.get('cam2')!.length, 'a continuous channel records every frame');
  t.equal((await readAll(r.store, 'cam3', 'main')).length, 0, 'a channel with recording off records nothing');
  t.same(r.gate.status().find((s) => s.channel === 'cam1')?.holds, [], 'no reason holds the channel any more');
});

t.test('overlapping reasons: the channel records until the last one ends; manual recording starts on the keyframe before the switch', async (t) => {
  const r = await rig(t, { cam1: 'events' }, [
    { id: 'motion', name: 'Motion', trigger: { type: 'motion', channel: 'cam1' }, actions: [{ type: 'record', channels: ['*'], preSec: 2, postSec: 3 }] },
    { id: 'door', name: 'Door', trigger: { type: 'alarm', input: 'door' }, actions: [{ type: 'record', channels: ['cam1'], preSec: 0, postSec: 5 }] },
  ]);
  await r.feed(10);
  r.bus.emit('motion', { channel: 'cam1', active: true, at: r.clock.now() }); // 9.96 s
  await settle();
  await r.feed(2);
  r.bus.emit('alarm', { input: 'door', active: true, source: 'gpio', at: r.clock.now() }); // 12 s
  await settle();
  await r.feed(2);
  r.bus.emit('motion', { channel: 'cam1', active: false, at: r.clock.now() }); // 14 s: motion's post ends at 17 s
  await settle();
  await r.feed(6);
  r.bus.emit('alarm', { input: 'door', active: false, source: 'gpio', at: r.clock.now() }); // 20 s: door's post ends at 25 s
  await settle();
  await r.feed(10); // to 30 s
  const now = r.clock.now() + 500;
  await r.feed(0.5);
  t.match(r.gate.record('cam1', 'manual', now, null), /recording from 0 s before|recording from 1 s before/, 'the switch reports the pre-record it got');
  await r.feed(5);
  const offAt = (r.clock.now() - START_MS) / 1000;
  r.gate.record('cam1', 'manual', r.clock.now(), r.clock.now());
  await r.feed(5);
  await r.store.flush();
  const back = await readAll(r.store, 'cam1', 'main');
  const tl = r.store.timeline('cam1', 'main', START_MS * 1000, (START_MS + 60_000) * 1000);
  const segs = tl.segments.map((s) => [Math.round((s.start - START_MS * 1000) / 1e4) / 100, Math.round((s.end - START_MS * 1000) / 1e4) / 100]);
  t.equal(segs.length, 2, `two segments: the events, and the manual recording (${JSON.stringify(segs)})`);
  t.equal(segs[0]![0], 7, 'the events start on the keyframe (7 s) before the pre-record reaches (2 s before the motion at 9.96 s)');
  t.ok(segs[0]![1] >= 24.9 && segs[0]![1] <= 25.04, 'and run on past the motion until 5 s after the door closed');
  t.equal(segs[1]![0], 30, 'manual recording starts on the keyframe before the switch at 30.5 s');
  t.ok(Math.abs(segs[1]![1] - offAt) <= 0.04, `and stops when switched off at ${offAt} s (${segs[1]![1]})`);
  t.ok(back.every((f, k) => k === 0 || f.time > back[k - 1]!.time), 'frames in order, none twice');
});

t.test('the pre-record buffer stays within its memory bound and says so', async (t) => {
  const r = await rig(t, { cam1: 'events' }, [
    { id: 'm', name: 'Motion', trigger: { type: 'motion', channel: 'cam1' }, actions: [{ type: 'record', channels: ['cam1'], preSec: 300, postSec: 0 }] },
  ], 200_000);
  await r.feed(30);
  const buffered = r.gate.status()[0]!.bufferedBytes;
  t.ok(buffered <= 200_000 + 25 * 4000 + 8000, `buffer bounded (${buffered} bytes for a 200 000 byte bound)`);
  t.ok(r.warnings.some((w) => /memory bound/.test(w.msg)), 'a warning says the pre-record is shorter than asked');
  t.equal((await readAll(r.store, 'cam1', 'main')).length, 0, 'nothing written without an event');
  r.bus.emit('motion', { channel: 'cam1', active: true, at: r.clock.now() });
  await settle();
  await r.feed(1);
  await r.store.flush();
  const back = await readAll(r.store, 'cam1', 'main');
  t.ok(back[0]!.keyframe && at(back[0]!) >= 25 && at(back[0]!) < 30, `recording starts as far back as the buffer reaches, on a keyframe (${at(back[0]!)} s)`);
});

t.test('a record action on a channel with recording off, or recording before any event, says so', async (t) => {
  const r = await rig(t, { cam1: 'off', cam2: 'events' }, []);
  t.throws(() => r.gate.record('cam1', 'manual', r.clock.now(), null), /recording is off for channel cam1/);
  t.equal(r.gate.record('cam2', 'manual', r.clock.now(), null), 'recording from the next keyframe (nothing buffered)');
  await r.feed(2);
  await r.store.flush();
  t.equal((await readAll(r.store, 'cam2', 'main')).length, 50, 'recorded from the first frame');
});
