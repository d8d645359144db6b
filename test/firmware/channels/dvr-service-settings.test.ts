// A DVR channel's stream settings changed in the config while it records:
// that channel's changed encoder reopens (configChanged on the bus), its
// capture and the other channels carry on, and nothing else in the config
// touches the encoders. Simulated card, x264, a memory store.
import t from 'tap';
import { createEncoder, shutdownEncoderPool, type Encoder, type EncoderBackendOptions } from '../../../drivers/encoder/index.js';
import { DvrService, type DvrChannelConfig } from '../../../firmware/channels/dvr-service.js';
import type { RecordingSink } from '../../../firmware/channels/nvr-service.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import type { StreamInfo } from '../../../firmware/media/types.js';
import * as C from '../../../drivers/v4l2/constants.js';
import { NO_IMAGE_SETTINGS, type ControlRange } from '../../../firmware/channels/dvr-image.js';
import { channelConfig, simCard } from './fixtures/dvr-sim.js';

t.setTimeout(120_000);
t.teardown(() => shutdownEncoderPool());

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('new stream settings reopen that channel\'s changed encoder only', async (t) => {
  const bus = new EventBus();
  const card = simCard({ width: 352, height: 288, periodMs: 40 });
  const infos: [string, string, number][] = [];
  const frames = new Map<string, number>();
  const store: RecordingSink = {
    setStreamInfo: (channel: string, stream: string, info: StreamInfo) => void infos.push([channel, stream, info.width ?? 0]),
    append: (channel: string, stream: string) => (frames.set(`${channel}/${stream}`, (frames.get(`${channel}/${stream}`) ?? 0) + 1), true),
    closeStream: async () => {},
  };
  const made: string[] = [];
  let channels: DvrChannelConfig[] = [channelConfig({ id: 'a', motion: { enabled: false, sensitivity: 50, minCells: 1 } }), channelConfig({ id: 'b' })];
  const records: LogRecord[] = [];
  const log = new Logger('dvr', { level: 'debug', sink: (r) => void records.push(r) });
  const dvr = new DvrService({
    bus,
    clock: systemClock,
    log,
    channels: () => channels,
    store,
    openCapture: card.open,
    createEncoder: (backend: string, o: EncoderBackendOptions): Encoder => (made.push(String(o.group)), createEncoder(backend, o)),
  });
  t.teardown(() => dvr.stop());
  await dvr.start();
  const count = (k: string) => frames.get(k) ?? 0;
  await until('both channels recording', () => count('a/sub') >= 5 && count('b/sub') >= 5);
  t.same(made.sort(), ['a', 'a', 'b', 'b']);

  const changed = (path: string) => bus.emit('configChanged', { paths: [path], at: Date.now() });
  // Not the streams: nothing reopens.
  channels = [{ ...channels[0]!, motion: { enabled: true, sensitivity: 80, minCells: 2 } }, channels[1]!];
  changed('dvrChannels.0.motion.sensitivity');
  changed('system.name');
  // The sub stream of b: QCIF at 6 fps.
  channels = [channels[0]!, { ...channels[1]!, sub: { ...channels[1]!.sub!, resolution: 'QCIF', fps: 6 } }];
  changed('system.name');
  t.equal(made.length, 4, 'a change elsewhere in the config is not looked at');
  changed('dvrChannels.1.sub');
  const subBefore = count('b/sub');
  await until('b/sub at the new size', () => infos.some(([c, s, w]) => c === 'b' && s === 'sub' && w === 88));
  await until('b/sub frames after the change', () => count('b/sub') >= subBefore + 5);
  t.same(made.sort(), ['a', 'a', 'b', 'b', 'b'], 'one encoder more: b\'s sub');
  t.equal(card.opens, 2, 'no capture reopened');
  t.same(dvr.status().map((s) => [s.channel, s.state, s.gaps]), [['a', 'streaming', 0], ['b', 'streaming', 0]]);
  t.ok(records.some((r) => r.msg === 'stream settings changed: reopening the encoders' && r.channel === 'b'), 'logged');

  // A whole-config write (a restored backup) with the same streams: nothing reopens.
  bus.emit('configChanged', { paths: [''], at: Date.now() });
  t.equal(made.length, 5);
  await dvr.stop();
  changed('dvrChannels.0.main');
  t.equal(made.length, 5, 'stopped: no longer listening');
});

t.test('picture controls: set on the card at start and live on a change, without reopening anything', async (t) => {
  const bus = new EventBus();
  // vivid's ranges; the card has no sharpness control.
  const range = (minimum: number, maximum: number, defaultValue: number): ControlRange => ({ minimum, maximum, step: 1, defaultValue, flags: 0 });
  const controls = new Map([
    [C.V4L2_CID_BRIGHTNESS, range(0, 255, 128)],
    [C.V4L2_CID_CONTRAST, range(0, 255, 128)],
    [C.V4L2_CID_SATURATION, range(0, 255, 128)],
    [C.V4L2_CID_HUE, range(-128, 128, 0)],
  ]);
  const card = simCard({ width: 352, height: 288, periodMs: 40, controls });
  card.values.set(C.V4L2_CID_CONTRAST, 30); // left over from before (v4l2-ctl, an earlier run)
  const frames = new Map<string, number>();
  const store: RecordingSink = {
    setStreamInfo: () => {},
    append: (channel: string, stream: string) => (frames.set(`${channel}/${stream}`, (frames.get(`${channel}/${stream}`) ?? 0) + 1), true),
    closeStream: async () => {},
  };
  let made = 0;
  let channels: DvrChannelConfig[] = [channelConfig({ id: 'a', image: { ...NO_IMAGE_SETTINGS, brightness: 75, hue: 20, sharpness: 40 } })];
  const records: LogRecord[] = [];
  const log = new Logger('dvr', { level: 'debug', sink: (r) => void records.push(r) });
  const dvr = new DvrService({
    bus,
    clock: systemClock,
    log,
    channels: () => channels,
    store,
    openCapture: card.open,
    createEncoder: (backend: string, o: EncoderBackendOptions): Encoder => (made++, createEncoder(backend, o)),
    baseBackoffMs: 50,
    maxBackoffMs: 200,
  });
  t.teardown(() => dvr.stop());
  await dvr.start();
  const count = (k: string) => frames.get(k) ?? 0;
  await until('recording', () => count('a/main') >= 3);
  const value = (id: number) => card.values.get(id);
  t.same([value(C.V4L2_CID_BRIGHTNESS), value(C.V4L2_CID_CONTRAST), value(C.V4L2_CID_SATURATION), value(C.V4L2_CID_HUE)], [191, 128, 128, -77], "75 % and 20 % of the card's ranges; unset ones at its defaults");
  const warnings = () => records.filter((r) => r.level === 'warn' && r.msg.includes('no such picture control'));
  t.match(warnings(), [{ channel: 'a', control: 'sharpness' }], 'the missing control is a warning, the channel records');
  t.equal(dvr.status()[0]!.state, 'streaming');

  const changed = (path: string) => bus.emit('configChanged', { paths: [path], at: Date.now() });
  card.sets.length = 0;
  channels = [{ ...channels[0]!, image: { ...channels[0]!.image!, brightness: 10 } }];
  changed('dvrChannels.0.image.brightness');
  t.same(card.sets, [[C.V4L2_CID_BRIGHTNESS, 26]], 'only the changed control, at once');
  channels = [{ ...channels[0]!, image: { ...channels[0]!.image!, hue: null, sharpness: 90 } }];
  changed('dvrChannels.0.image');
  t.same(card.sets.slice(1), [[C.V4L2_CID_HUE, 0]], 'cleared: back to the driver default');
  t.equal(warnings().length, 1, 'a missing control is reported once');
  const before = count('a/main');
  await until('frames after the changes', () => count('a/main') >= before + 3);
  t.equal(card.opens, 1, 'the capture was not reopened');
  t.equal(made, 2, 'nor the encoders');
  t.same(dvr.status().map((s) => [s.state, s.gaps]), [['streaming', 0]]);

  // A new attempt (the capture failed) sets them all again, and still warns only once.
  card.sets.length = 0;
  card.control[1] = 1; // ENODEV on the next DQBUF
  await until('a new attempt', () => card.opens >= 2 && card.sets.length >= 4, 30_000);
  card.control[1] = 0;
  t.same(card.sets.slice(0, 4), [[C.V4L2_CID_BRIGHTNESS, 26], [C.V4L2_CID_CONTRAST, 128], [C.V4L2_CID_SATURATION, 128], [C.V4L2_CID_HUE, 0]]);
  t.equal(warnings().length, 1);
});
