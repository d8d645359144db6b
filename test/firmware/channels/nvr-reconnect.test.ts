import t from 'tap';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ChannelRunner } from '../../../firmware/channels/channel-runner.js';
import { RtspCameraSource } from '../../../firmware/channels/rtsp-camera-source.js';
import { startCamera } from '../media/rtsp/camera.js';
import { freePort, waitFor } from '../../helpers/firmware.js';

t.test('a camera killed mid-stream and brought back: recording resumes within 5 s of its return, the gap is reported with its bounds', async (t) => {
  const port = await freePort();
  let camera = await startCamera({ port });
  t.teardown(() => camera.stop());
  const bus = new EventBus();
  const gaps: BusEvents['recordingGap'][] = [];
  const states: string[] = [];
  bus.on('recordingGap', (g) => gaps.push(g));
  bus.on('cameraState', (s) => states.push(s.state));
  const frames: { time: number; at: number }[] = [];
  const runner = new ChannelRunner({
    channel: 'ch1',
    createSource: () => new RtspCameraSource({ url: camera.url, stream: 'main', transport: 'tcp', timeoutMs: 3000, mediaTimeoutMs: 3000 }),
    sink: { frame: (_c, s, _i, f) => s === 'main' && frames.push({ time: f.time, at: Date.now() }) },
    bus,
    clock: systemClock,
    log: memoryLogger(),
    baseBackoffMs: 500,
    maxBackoffMs: 2000,
    stallMs: 5000,
  });
  runner.start();
  t.teardown(() => runner.stop());
  await waitFor('frames from the camera', async () => frames.length >= 25, 20_000);
  t.equal(runner.state, 'streaming');

  camera.kill();
  await waitFor('the channel to notice', async () => runner.state !== 'streaming', 10_000);
  await new Promise((r) => setTimeout(r, 2000));
  // Frames already in flight when the camera died still arrive: the last one received is where the gap starts.
  const countDown = frames.length;
  const lastBefore = frames[countDown - 1]!.time;
  camera = await startCamera({ port });
  const back = Date.now();
  await waitFor('frames after the camera returns', async () => frames.length > countDown + 5, 20_000);
  const firstAfter = frames[countDown]!;
  t.ok(firstAfter.at - back < 5000, `recording resumed ${firstAfter.at - back} ms after the camera came back`);
  t.equal(gaps.length, 1, 'one gap');
  t.equal(gaps[0]!.from, lastBefore, 'gap starts at the last frame before the drop');
  t.equal(gaps[0]!.to, firstAfter.time, 'and ends at the first frame after it');
  t.ok(gaps[0]!.to - gaps[0]!.from >= 2_000_000, 'covers the time the camera was away');
  t.ok(states.includes('reconnecting') || states.includes('unreachable'));
});
