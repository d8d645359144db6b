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
