// A scheduled channel whose system.timezone the box does not know (a config
// from before zones were checked): the gate draws the week in UTC and says so
// once, instead of Intl throwing on every frame.
import t from 'tap';
import { RecordGate } from '../../../firmware/channels/record-gate.js';
import type { RecordingSink } from '../../../firmware/channels/nvr-service.js';
import { recordScheduleSchema } from '../../../firmware/config/recording.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import type { Frame, StreamKind } from '../../../firmware/media/types.js';
import { H264 } from '../storage/helpers.js';

class Sink implements RecordingSink {
  readonly frames: Frame[] = [];
  setStreamInfo(): void {}
  append(_c: string, _s: StreamKind, frame: Frame): boolean {
    this.frames.push(frame);
    return true;
  }
  async closeStream(): Promise<void> {}
}

t.test('an unknown zone: schedules in UTC, one warning, every frame taken', async (t) => {
  // Monday: continuous from 08:00 to 08:30 only, by the UTC wall clock.
  const monday = '-'.repeat(16) + 'C' + '-'.repeat(31);
  const schedule = recordScheduleSchema.parse({ days: [monday, ...Array.from({ length: 6 }, () => '-'.repeat(48))] });
  const start = Date.UTC(2026, 0, 5, 8, 29, 58); // Monday 08:29:58 UTC
  const clock = new ManualClock(start);
  const records: LogRecord[] = [];
  const log = new Logger('gate', { level: 'debug', sink: (r) => void records.push(r) });
  const sink = new Sink();
  const gate = new RecordGate({ store: sink, clock, log, mode: () => 'events', schedule: () => schedule, timezone: () => 'Mars/Base', preRecordMs: () => 0 });
  gate.setStreamInfo('cam1', 'main', H264);
  const fed: Frame[] = [];
  for (let i = 0; i < 100; i++) {
    const f: Frame = { time: (start + i * 40) * 1000, keyframe: i % 25 === 0, data: Buffer.alloc(10, i) };
    fed.push(f);
    t.doesNotThrow(() => gate.append('cam1', 'main', f), `frame ${i}`);
  }
  // 08:29:58 to 08:30:00 is the C half hour: 50 frames; from 08:30 nothing.
  t.equal(sink.frames.length, 50, 'the UTC half hour decides');
  t.same(sink.frames, fed.slice(0, 50));
  t.match(records.filter((r) => r.level === 'warn'), [{ msg: /time zone/, timezone: 'Mars/Base' }]);
  t.equal(records.filter((r) => r.level === 'warn').length, 1, 'said once, not per frame');
});
