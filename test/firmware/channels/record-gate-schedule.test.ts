// A channel recorded by its weekly schedule, as an installer checks it: in a
// motion half hour its own motion records with pre- and post-record, an
// alarm half hour takes alarm rules but not motion, a continuous half hour
// takes everything, and the half hour's edge is the frame's own time.
import t, { type Test } from 'tap';
import { RecordGate } from '../../../firmware/channels/record-gate.js';
import type { RecordingSink } from '../../../firmware/channels/nvr-service.js';
import { recordScheduleSchema, type RecordSchedule } from '../../../firmware/config/recording.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { boxTargets } from '../../../firmware/linkage/box-targets.js';
import { LinkageService } from '../../../firmware/linkage/engine.js';
import { ruleSchema } from '../../../firmware/linkage/rules.js';
import type { Frame, StreamKind } from '../../../firmware/media/types.js';
import { AAC, H264 } from '../storage/helpers.js';

const ZONE = 'Europe/London'; // GMT in January: the wall clock reads as UTC below
const MONDAY = (h: number, m: number, s = 0) => Date.UTC(2026, 0, 5, h, m, s);
// Monday 08:00 motion, 08:30 alarm, 09:00 continuous, 09:30 none, 10:00 continuous; everything else none.
const monday = '-'.repeat(16) + 'MAC-C' + '-'.repeat(27);
const SCHEDULE: RecordSchedule = recordScheduleSchema.parse({ days: [monday, ...Array.from({ length: 6 }, () => '-'.repeat(48))], preSec: 5, postSec: 10 });

class Sink implements RecordingSink {
  readonly frames = new Map<string, Frame[]>();
  setStreamInfo(): void {}
  append(channel: string, stream: StreamKind, frame: Frame): boolean {
    const key = `${channel}/${stream}`;
    this.frames.set(key, [...(this.frames.get(key) ?? []), frame]);
    return true;
  }
  async closeStream(): Promise<void> {}
  video(channel: string): Frame[] {
    return this.frames.get(`${channel}/main`) ?? [];
  }
}

/** Two scheduled channels fed 25 fps (a keyframe each whole second) and audio from `startMs`, a real linkage engine in front. */
async function rig(t: Test, startMs: number, rules: unknown[] = []) {
  const clock = new ManualClock(startMs);
  const bus = new EventBus();
  const log = memoryLogger('gate');
  const sink = new Sink();
  const schedules: Record<string, RecordSchedule | null> = { cam1: SCHEDULE, cam2: SCHEDULE, cam3: null };
  const gate = new RecordGate({ store: sink, clock, log, mode: () => 'events', schedule: (c) => schedules[c] ?? null, timezone: () => ZONE, preRecordMs: () => 5000 });
  const parsed = rules.map((r) => ruleSchema.parse(r));
  const channels = Object.keys(schedules);
  const linkage = new LinkageService({ bus, clock, log, rules: () => parsed, timezone: () => ZONE, targets: boxTargets({ bus, clock, channels: () => channels, recorder: gate, mqttEnabled: false }) });
  await linkage.start();
  t.teardown(() => linkage.stop());
  for (const c of channels) (gate.setStreamInfo(c, 'main', H264), gate.setStreamInfo(c, 'audio', AAC));
  const fed: Frame[] = [];
  let i = 0;
  return {
    clock,
    bus,
    gate,
    sink,
    fed,
    async feed(seconds: number) {
      for (const end = i + Math.round(seconds * 25); i < end; i++) {
        if (i > 0) await clock.advance(40);
        const f: Frame = { time: clock.now() * 1000, keyframe: i % 25 === 0, data: Buffer.alloc(100, i) };
        fed.push(f);
        for (const c of channels) {
          gate.append(c, 'main', f);
          if (i % 2 === 0) gate.append(c, 'audio', { time: f.time + 5, keyframe: true, data: Buffer.alloc(20) });
        }
      }
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));
/** Seconds since `base` of a frame. */
const secs = (f: Frame, base: number) => Math.round((f.time / 1000 - base) * 1000) / 1e6;

t.test('M half hour: the channel\'s own motion records from preSec before to postSec after, no rule needed', async (t) => {
  const base = MONDAY(8, 10);
  const r = await rig(t, base);
  await r.feed(20.5);
  const start = r.clock.now(); // 20.48 s
  r.gate.motion('cam1', true, start);
  r.gate.motion('cam3', true, start);
  await r.feed(10);
  r.gate.motion('cam1', false, r.clock.now()); // 30.48 s
  r.gate.motion('cam3', false, r.clock.now());
  await r.feed(20);
  const back = r.sink.video('cam1');
  t.equal(secs(back[0]!, base), 15, 'from the keyframe at 15 s: 5 s before the motion at 20.48 s');
  t.equal(secs(back.at(-1)!, base), 40.48, 'until 10 s after the motion ended at 30.48 s');
  const first = r.fed.indexOf(back[0]!);
  t.ok(back.length === r.fed.indexOf(back.at(-1)!) - first + 1 && back.every((f, k) => f === r.fed[first + k]), 'every frame between, none twice');
  const audio = r.sink.frames.get('cam1/audio') ?? [];
  t.ok(audio.length > 0 && secs(audio[0]!, base) >= 15 && secs(audio.at(-1)!, base) <= 40.48, 'audio in the same window');
  t.equal(r.sink.video('cam2').length, 0, 'a channel without motion records nothing');
  t.equal(r.sink.video('cam3').length, 0, 'without a schedule, motion alone records nothing (linkage rules do, as before)');
  t.same(r.gate.status().find((s) => s.channel === 'cam1')?.holds, [], 'the hold is gone');
});

t.test('an alarm rule records in an A half hour, not in an M one; motion does not record in A', async (t) => {
  const base = MONDAY(8, 29);
  const r = await rig(t, base, [{ id: 'door', name: 'Door', trigger: { type: 'alarm', input: 'door' }, actions: [{ type: 'record', channels: ['cam1'], preSec: 2, postSec: 5 }] }]);
  await r.feed(20);
  r.bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: r.clock.now() }); // 08:29:19.96, M
  await settle();
  t.match(r.gate.status().find((s) => s.channel === 'cam1')?.holds, [{ key: 'rule door door', kind: 'alarm' }], 'the rule holds as an alarm');
  await r.feed(10);
  r.bus.emit('alarm', { source: 'gpio', input: 'door', active: false, at: r.clock.now() }); // 08:29:29.96: post until 08:29:34.96
  await settle();
  await r.feed(40); // to 08:30:09.96, A
  t.equal(r.sink.video('cam1').length, 0, 'nothing from the alarm in the motion half hour');
  r.bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: r.clock.now() }); // 08:30:09.96
  r.gate.motion('cam2', true, r.clock.now());
  await settle();
  await r.feed(5);
  r.bus.emit('alarm', { source: 'gpio', input: 'door', active: false, at: r.clock.now() }); // 08:30:14.96: post until 08:30:19.96
  r.gate.motion('cam2', false, r.clock.now());
  await settle();
  await r.feed(15);
  const back = r.sink.video('cam1');
  t.equal(secs(back[0]!, base), 67, 'the alarm half hour records from the keyframe before 2 s before the alarm at 08:30:09.96');
  t.equal(secs(back.at(-1)!, base), 79.96, 'to 5 s after it ended at 08:30:14.96');
  t.equal(r.sink.video('cam2').length, 0, 'motion records nothing in an alarm half hour');
  t.match(r.gate.record('cam1', 'manual', r.clock.now(), r.clock.now(), 'motion'), /no motion events now \(A\)/, 'a hold the half hour ignores says so');
});

t.test('C half hour records everything; its edge to "-" stops at the first frame of the next half hour, and "-" to C starts on a keyframe', async (t) => {
  const base = MONDAY(9, 29, 50);
  const r = await rig(t, base);
  await r.feed(20); // 09:29:50 .. 09:30:10
  const edge = MONDAY(9, 30) * 1000;
  const back = r.sink.video('cam1');
  const before = r.fed.filter((f) => f.time < edge);
  t.equal(back.length, before.length, `every frame of the C half hour is written (${back.length})`);
  t.ok(back.every((f, k) => f === before[k]), 'in order, none missing');
  t.equal(back.at(-1)!.time, edge - 40_000, 'the last one is the frame 40 ms before 09:30:00');
  t.ok((r.sink.frames.get('cam1/audio') ?? []).every((f) => f.time < edge), 'audio stops at the edge too');
  t.match(r.gate.record('cam1', 'manual', r.clock.now(), null), /^recording from \d s before$/, 'the manual switch records in a "-" half hour');
  await r.feed(1);
  r.gate.record('cam1', 'manual', r.clock.now(), r.clock.now());
  const manual = r.sink.video('cam1').filter((f) => f.time >= edge);
  t.ok(manual.length > 25 && manual[0]!.keyframe, `the switch recorded from a keyframe (${manual.length} frames)`);

  const base2 = MONDAY(9, 59, 50);
  const r2 = await rig(t, base2);
  await r2.feed(10.2); // the keyframe at 10:00:00 is the first frame of the C half hour
  await r2.feed(10);
  const c = r2.sink.video('cam1');
  t.equal(secs(c[0]!, base2), 10, 'recording starts on the keyframe at 10:00:00');
  t.equal(c.length, r2.fed.length - 250, 'and writes everything after it');
});
