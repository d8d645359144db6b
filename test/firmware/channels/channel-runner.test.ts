import t from 'tap';
import { EventEmitter } from 'node:events';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ChannelRunner } from '../../../firmware/channels/channel-runner.js';
import { SourceError, type FrameSource, type FrameSourceEvents } from '../../../firmware/channels/source.js';
import type { StreamInfo } from '../../../firmware/media/types.js';

/**
 * A source the test scripts: this is a unit test of the state machine; the
 * real RTSP camera is exercised end to end in the NVR channel tests.
 */
class ScriptedSource extends EventEmitter<FrameSourceEvents> implements FrameSource {
  stopped = false;
  constructor(private readonly outcome: 'ok' | Error) {
    super();
  }
  async start() {
    if (this.outcome !== 'ok') throw this.outcome;
    this.emit('info', 'main', INFO);
  }
  async stop() {
    this.stopped = true;
  }
  send(timeUs: number) {
    this.emit('frame', 'main', { time: timeUs, keyframe: true, data: new Uint8Array([0, 0, 0, 1, 0x65]) });
  }
}
const INFO: StreamInfo = { codec: 'h264', config: new Uint8Array([1]), width: 704, height: 576 };

function setup(outcomes: ('ok' | Error)[]) {
  const clock = new ManualClock();
  const bus = new EventBus();
  const states: string[] = [];
  const gaps: BusEvents['recordingGap'][] = [];
  bus.on('cameraState', (e) => states.push(e.state));
  bus.on('recordingGap', (e) => gaps.push(e));
  const sources: ScriptedSource[] = [];
  const frames: number[] = [];
  const runner = new ChannelRunner({
    channel: 'ch1',
    createSource: () => {
      const s = new ScriptedSource(outcomes.shift() ?? 'ok');
      sources.push(s);
      return s;
    },
    sink: { frame: (_c, _s, _i, f) => frames.push(f.time) },
    bus,
    clock,
    log: memoryLogger(),
    baseBackoffMs: 1000,
    maxBackoffMs: 8000,
    jitter: 0,
    stallMs: 5000,
  });
  const tick = () => new Promise((r) => setImmediate(r));
  return { clock, runner, states, gaps, sources, frames, tick };
}

t.test('connects, streams, and on a drop reconnects and reports the gap with its bounds', async (t) => {
  const { runner, states, gaps, sources, frames, clock, tick } = setup(['ok', new SourceError('connection refused', 'unreachable'), 'ok']);
  runner.start();
  await tick();
  t.equal(runner.state, 'streaming');
  sources[0]!.send(1_000_000);
  sources[0]!.send(1_040_000);
  sources[0]!.emit('close', new Error('socket closed'));
  t.equal(runner.state, 'reconnecting');
  t.ok(sources[0]!.stopped, 'the dead connection is released');
  await clock.advance(1000);
  t.equal(runner.state, 'unreachable', 'camera still down: said so');
  await clock.advance(1999);
  t.equal(sources.length, 2, 'backoff doubled: no third attempt yet');
  await clock.advance(1);
  await tick();
  sources[2]!.send(9_000_000);
  t.equal(runner.state, 'streaming');
  t.same(frames, [1_000_000, 1_040_000, 9_000_000]);
  t.same(gaps.map((g) => [g.channel, g.from, g.to, g.reason]), [['ch1', 1_040_000, 9_000_000, 'closed']]);
  t.same(states, ['connecting', 'streaming', 'reconnecting', 'unreachable', 'reconnecting', 'streaming']);
  await runner.stop();
  t.equal(runner.state, 'disabled');
});

t.test('a camera that accepts and then sends nothing is reconnected by the stall watchdog', async (t) => {
  const { runner, sources, clock, gaps, tick } = setup(['ok', 'ok']);
  runner.start();
  await tick();
  sources[0]!.send(5_000_000);
  await clock.advance(4999);
  t.equal(sources.length, 1);
  await clock.advance(1);
  t.ok(sources[0]!.stopped, 'stalled connection dropped after 5 s without media');
  t.match(runner.lastError, /no media for 5 s/);
  await clock.advance(1000);
  await tick();
  sources[1]!.send(11_000_000);
  t.same(gaps.map((g) => g.reason), ['stalled']);
});

t.test('wrong credentials are reported as unauthorized and retried at the capped backoff', async (t) => {
  const denied = Object.assign(new Error('401 Unauthorized'), { name: 'RtspUnauthorized' });
  const { runner, states, clock, sources } = setup([denied, denied, denied, denied, denied]);
  runner.start();
  await new Promise((r) => setImmediate(r));
  t.equal(runner.state, 'unauthorized');
  await clock.advance(1000 + 2000 + 4000 + 8000);
  t.equal(sources.length, 5);
  await clock.advance(7999);
  t.equal(sources.length, 5, 'capped at 8 s');
  t.ok(states.includes('unauthorized'));
  await runner.stop();
  await clock.advance(60_000);
  t.equal(sources.length, 5, 'stop cancels the pending retry');
});

t.test('jitter spreads reconnects', async (t) => {
  const delays: number[] = [];
  for (const r of [0, 0.5, 1]) {
    const clock = new ManualClock();
    let made = 0;
    const runner = new ChannelRunner({
      channel: 'x', createSource: () => new ScriptedSource(made++ === 0 ? new Error('ECONNREFUSED') : 'ok'),
      sink: { frame: () => {} }, bus: new EventBus(), clock, log: memoryLogger(), baseBackoffMs: 1000, jitter: 0.2, random: () => r,
    });
    runner.start();
    await new Promise((res) => setImmediate(res));
    let waited = 0;
    while (made < 2) {
      await clock.advance(10);
      waited += 10;
    }
    delays.push(waited);
    await runner.stop();
  }
  t.same(delays, [800, 1000, 1200]);
});
