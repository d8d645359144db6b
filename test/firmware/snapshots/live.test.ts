// LiveSnapshots on a manual clock: viewers at the same moment share one
// request, a young picture is given again, an old one is not, and a failing
// camera is asked (and logged) no more often than a working one.
import t from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger } from '../../../firmware/core/log.js';
import { LiveSnapshots } from '../../../firmware/snapshots/live.js';

function setup() {
  const clock = new ManualClock();
  const lines: string[] = [];
  let asked = 0;
  let failing: string | null = null;
  const live = new LiveSnapshots({
    clock,
    log: new Logger('live', { level: 'debug', sink: (_r, line) => lines.push(line) }),
    maxAgeMs: 800,
    source: async (channel) => {
      asked++;
      if (failing) throw new Error(failing);
      return Uint8Array.of(0xff, 0xd8, asked, channel.length);
    },
  });
  return { clock, lines, live, asked: () => asked, fail: (why: string | null) => (failing = why) };
}

t.test('shared, reused while young, asked again when old', async (t) => {
  const s = setup();
  const three = await Promise.all([s.live.take('cam1'), s.live.take('cam1'), s.live.take('cam1')]);
  t.equal(s.asked(), 1, 'three viewers at once: one request');
  t.ok(three.every((p) => p.jpeg === three[0]!.jpeg), 'all three get the same picture');
  await s.clock.advance(500);
  t.equal((await s.live.take('cam1')).jpeg, three[0]!.jpeg, '500 ms later: the same picture');
  await s.live.take('cam2');
  t.equal(s.asked(), 2, 'another channel is its own');
  await s.clock.advance(300);
  const fresh = await s.live.take('cam1');
  t.equal(s.asked(), 3, '800 ms after it came: asked again');
  t.equal(fresh.jpeg[2], 3, 'a new picture');
  t.equal(fresh.at, s.clock.now(), 'stamped with when it came');
});

t.test('a failing camera: the failure shared, logged once per outage', async (t) => {
  const s = setup();
  s.fail('no answer within 5000 ms');
  const all = await Promise.allSettled([s.live.take('cam1'), s.live.take('cam1')]);
  t.match(all, [{ status: 'rejected', reason: { message: 'no answer within 5000 ms' } }, { status: 'rejected' }], 'both viewers get the reason');
  t.equal(s.asked(), 1, 'one request for both');
  await t.rejects(s.live.take('cam1'), /no answer/, 'a viewer right after gets the same failure');
  t.equal(s.asked(), 1, 'without asking the camera again');
  await s.clock.advance(800);
  await t.rejects(s.live.take('cam1'));
  t.equal(s.asked(), 2, 'asked again once the failure is old');
  t.equal(s.lines.filter((l) => l.includes('live snapshot failed')).length, 1, 'logged once for the outage');
  s.fail(null);
  await s.clock.advance(800);
  t.equal((await s.live.take('cam1')).jpeg[0], 0xff, 'the camera back: a picture');
  t.equal(s.lines.filter((l) => l.includes('work again')).length, 1, 'its return is logged');
});
