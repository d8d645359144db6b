import t from 'tap';
import type { LiveListener } from '../../../../firmware/channels/live-fanout.js';
import { ManualClock } from '../../../../firmware/core/clock.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';
import { LiveFeed } from '../../../../firmware/web/live/live-feed.js';

const info: StreamInfo = { codec: 'h264', config: new Uint8Array([1, 0x64, 0, 0x1f]) };
const frame = (n: number, keyframe: boolean, size = 100): Frame => ({ time: n * 40_000, keyframe, data: new Uint8Array(size) });

function rig(o: { maxGopBytes?: number } = {}) {
  const clock = new ManualClock(0);
  let source: LiveListener | undefined;
  let subscriptions = 0;
  let gone = 0;
  const feed = new LiveFeed(
    {
      subscribe: (_c, _v, l) => {
        subscriptions++;
        source = l;
        return () => (source = undefined);
      },
    },
    'yard',
    'main',
    { clock, lingerMs: 1000, ...o },
    () => gone++,
  );
  const viewer = () => {
    const got: number[] = [];
    let ended = false;
    return { got, ended: () => ended, l: { frame: (_k: 'video' | 'audio', _i: StreamInfo, f: Frame) => got.push(f.time / 40_000), end: () => (ended = true) } as LiveListener };
  };
  return { clock, feed, viewer, send: (f: Frame) => source?.frame('video', info, f), subscribed: () => source !== undefined, subscriptions: () => subscriptions, gone: () => gone, end: () => source?.end() };
}

t.test('a joiner gets the GOP held since the last keyframe, then live frames', async (t) => {
  const r = rig();
  const a = r.viewer();
  r.feed.join(a.l);
  for (let i = 0; i < 8; i++) r.send(frame(i, i % 5 === 0));
  const b = r.viewer();
  r.feed.join(b.l);
  t.same(b.got, [5, 6, 7], 'the held GOP, from its keyframe');
  r.send(frame(8, false));
  t.same(b.got, [5, 6, 7, 8]);
  t.same(a.got, [0, 1, 2, 3, 4, 5, 6, 7, 8], 'the first viewer saw everything once');
  t.equal(r.subscriptions(), 1, 'one subscription to the channel for both');
});

t.test('a GOP over the bound is not held: a joiner waits for the next keyframe', async (t) => {
  const r = rig({ maxGopBytes: 250 });
  r.feed.join(r.viewer().l);
  for (let i = 0; i < 4; i++) r.send(frame(i, i === 0));
  t.equal(r.feed.heldFrames, 0, 'dropped when the GOP passed 250 bytes');
  const late = r.viewer();
  r.feed.join(late.l);
  t.same(late.got, []);
});

t.test('the subscription lingers after the last viewer, then ends', async (t) => {
  const r = rig();
  const leave = r.feed.join(r.viewer().l);
  leave();
  t.ok(r.subscribed(), 'still subscribed right after the last viewer left');
  r.clock.advance(500);
  const back = r.feed.join(r.viewer().l);
  r.clock.advance(2000);
  t.ok(r.subscribed(), 'a viewer coming back within the linger keeps it');
  back();
  r.clock.advance(1000);
  t.notOk(r.subscribed(), 'unsubscribed a linger after the last viewer');
  t.equal(r.gone(), 1, 'the feed reports itself gone');
});

t.test('the channel stopping ends every viewer', async (t) => {
  const r = rig();
  const a = r.viewer();
  r.feed.join(a.l);
  r.end();
  t.ok(a.ended(), 'the viewer is told');
  t.equal(r.gone(), 1);
});
