// Bad input on a DVR channel: the capture card vanishes mid-stream (ENODEV
// from DQBUF), the node is busy at open (EBUSY), a buffer comes back short,
// the encoder refuses its settings. Each gives a clear error in the channel
// state, the channel retries with backoff, and the process stays up. The card
// is the simulated one (fixtures/dvr-sim-backend.ts) in CaptureStream's real
// worker; faults are switched in its shared control cells.
import t, { type Test } from 'tap';
import { shutdownEncoderPool } from '../../../drivers/encoder/index.js';
import { DvrService, type DvrChannelConfig } from '../../../firmware/channels/dvr-service.js';
import { SourceError } from '../../../firmware/channels/source.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import type { RecordingSink } from '../../../firmware/channels/nvr-service.js';
import { FAULT, FAULT_ENODEV, FAULT_SHORT, SCENE } from './fixtures/dvr-sim-backend.js';
import { simCard } from './fixtures/dvr-sim.js';

t.setTimeout(300_000);
t.teardown(() => shutdownEncoderPool());

function config(over: Partial<DvrChannelConfig> = {}): DvrChannelConfig {
  return {
    id: 'dvr1',
    enabled: true,
    device: '/dev/video0',
    input: 0,
    standard: 'auto',
    encoder: { backend: 'x264' },
    main: { codec: 'h264', bitrateKbps: 256, rateControl: 'vbr', gop: 10, profile: 'baseline', preset: 'ultrafast' },
    sub: null,
    motion: { enabled: false, sensitivity: 50, minCells: 1 },
    tamper: { enabled: false },
    ...over,
  };
}

function memoryStore(): RecordingSink & { frames: number; infos: number; closed: string[] } {
  const s = {
    frames: 0,
    infos: 0,
    closed: [] as string[],
    setStreamInfo: () => void s.infos++,
    append: () => {
      s.frames++;
      return true;
    },
    closeStream: async (_c: string, stream: string) => void s.closed.push(stream),
  };
  return s;
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function setup(t: Test, over: Partial<DvrChannelConfig> = {}) {
  const bus = new EventBus();
  const states: BusEvents['cameraState'][] = [];
  bus.on('cameraState', (e) => states.push(e));
  const card = simCard({ width: 176, height: 144, periodMs: 20 });
  const store = memoryStore();
  const dvr = new DvrService({ bus, clock: systemClock, log: memoryLogger('dvr'), channels: () => [config(over)], store, openCapture: card.open, baseBackoffMs: 50, maxBackoffMs: 200 });
  t.teardown(() => dvr.stop());
  return { bus, states, card, store, dvr };
}

t.test('the card disappears mid-stream (ENODEV): error named, retried, recording resumes', async (t) => {
  const { states, card, store, dvr } = setup(t);
  await dvr.start();
  await until('frames', () => store.frames >= 5);
  card.control[FAULT] = FAULT_ENODEV;
  await until('the failure', () => states.some((s) => s.state === 'reconnecting' && /ENODEV/.test(s.detail ?? '')));
  const failed = states.find((s) => /ENODEV/.test(s.detail ?? ''))!;
  t.match(failed.detail, /VIDIOC_DQBUF.*ENODEV \(No such device\)/, `state detail: ${failed.detail}`);
  await until('a retry', () => card.opens >= 2);
  card.control[FAULT] = 0; // plugged back in
  const before = store.frames;
  await until('recording again', () => store.frames >= before + 2 && dvr.status()[0]!.state === 'streaming');
  t.ok(card.opens >= 2, `${card.opens} opens: the channel kept retrying`);
  t.ok(dvr.status()[0]!.gaps >= 1, 'the outage is a recording gap');
});

t.test('EBUSY at open: reported as such, retried until the device is free', async (t) => {
  const { states, card, store, dvr } = setup(t);
  card.failNextOpen = new SourceError('cannot open /dev/video0: open on /dev/video0: EBUSY (Device or resource busy) (the device is in use by another process or channel)', 'unreachable');
  await dvr.start();
  await until('frames', () => store.frames >= 3);
  const busy = states.find((s) => /EBUSY/.test(s.detail ?? ''));
  t.equal(busy?.state, 'unreachable', `state ${busy?.state}: ${busy?.detail}`);
  t.equal(card.opens, 2, 'opened again after the backoff');
});

t.test('a buffer of the wrong size: clear error, retry', async (t) => {
  const { states, card, store, dvr } = setup(t);
  await dvr.start();
  await until('frames', () => store.frames >= 3);
  card.control[FAULT] = FAULT_SHORT;
  await until('the failure', () => states.some((s) => /buffer of 1000 bytes/.test(s.detail ?? '')));
  t.match(states.find((s) => /buffer of/.test(s.detail ?? ''))?.detail, /buffer of 1000 bytes, a 176x144 nv12 frame needs 38016/);
  card.control[FAULT] = 0;
  await until('a retry', () => card.opens >= 2);
  t.pass('retried (recovery itself is shown by the ENODEV case)');
});

t.test('an encoder setting the backend refuses: the error names it', async (t) => {
  const { states, card, dvr } = setup(t, { main: { codec: 'h265', bitrateKbps: 256, rateControl: 'vbr', gop: 10, profile: 'main' } });
  await dvr.start();
  await until('the failure', () => states.some((s) => /codec/.test(s.detail ?? '')));
  t.match(states.find((s) => /codec/.test(s.detail ?? ''))?.detail, /encoder: x264: codec/);
  await until('a retry', () => card.opens >= 2);
  await dvr.stop();
  t.equal(dvr.status().length, 0);
  await until('every capture closed', () => card.handles.every((h) => !h.stream.running));
  t.pass('no capture left running after stop');
});

t.test('a flat black picture for 3 s is video loss; the picture back ends it', async (t) => {
  const { bus, card, store, dvr } = setup(t);
  const loss: boolean[] = [];
  bus.on('videoLoss', (e) => loss.push(e.lost));
  await dvr.start();
  await until('frames', () => store.frames >= 3);
  card.control[SCENE] = 1;
  await until('video loss', () => loss.length === 1, 20_000);
  t.same(loss, [true]);
  t.equal(dvr.status()[0]!.videoLoss, true);
  card.control[SCENE] = 0;
  await until('recovery', () => loss.length === 2, 20_000);
  t.same(loss, [true, false]);
});

t.test('two channels with one id: the second is ignored; disabled channels do not start', async (t) => {
  const bus = new EventBus();
  const card = simCard({ width: 176, height: 144 });
  const log = memoryLogger('dvr');
  const dvr = new DvrService({ bus, clock: systemClock, log, channels: () => [config({ enabled: false }), config({ id: 'x' }), config({ id: 'x' })], store: memoryStore(), openCapture: card.open });
  await dvr.start();
  t.same(dvr.status().map((s) => s.channel), ['x']);
  await dvr.stop();
});
