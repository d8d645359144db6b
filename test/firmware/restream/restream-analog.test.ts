/**
 * The restream of an analog channel: a simulated capture card (no V4L2 card
 * here: test/firmware/channels/fixtures/dvr-sim.ts runs in CaptureStream's
 * real worker) → DvrService (x264 main + sub) → LiveFanout → RestreamService
 * → ffmpeg as independent RTSP clients, two at once, main and sub, as
 * Home Assistant or another NVR would pull them.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutdownEncoderPool } from '../../../drivers/encoder/index.js';
import { DvrService } from '../../../firmware/channels/dvr-service.js';
import { LiveFanout } from '../../../firmware/channels/live-fanout.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { digestHa1 } from '../../../firmware/media/rtsp/server-auth.js';
import { RestreamService } from '../../../firmware/restream/restream-service.js';
import { channelConfig, simCard } from '../channels/fixtures/dvr-sim.js';
import { decodeErrors, MemorySink, probeFile, run, until } from './helpers.js';

const USER = 'operator1';
const PASSWORD = 'Watch-2026-ok';
t.setTimeout(240_000);
t.teardown(() => shutdownEncoderPool());

t.test('an analog channel served live over RTSP: main and sub to two ffmpeg clients at once', async (t) => {
  const log = memoryLogger('test');
  const config = channelConfig();
  const live = new LiveFanout(() => [{ id: config.id, sub: true }], log);
  const card = simCard({ periodMs: 40 });
  const dvr = new DvrService({ bus: new EventBus(), clock: systemClock, log, channels: () => [config], store: new MemorySink(), live, openCapture: card.open });
  await dvr.start();
  t.teardown(() => dvr.stop());
  const restream = new RestreamService({
    clock: systemClock,
    log,
    channels: live,
    port: 0,
    bindAddress: '127.0.0.1',
    users: { ha1: (u, realm) => (u === USER ? digestHa1(u, realm, PASSWORD) : null), mayWatch: () => true },
  });
  await restream.start();
  t.teardown(() => restream.stop());
  await until('main and sub described', () => live.liveTracks(config.id, 'main').length === 1 && live.liveTracks(config.id, 'sub').length === 1, 90_000);

  const dir = mkdtempSync(join(tmpdir(), 'restream-analog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const url = (path: string) => `rtsp://${USER}:${PASSWORD}@127.0.0.1:${restream.port!}/${path}`;
  const grab = (path: string, out: string) => run('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url(path), '-t', '4', '-c', 'copy', '-y', join(dir, out)], 90_000);
  const [main, sub] = await Promise.all([grab(`${config.id}/main`, 'main.mkv'), grab(`${config.id}/sub`, 'sub.mkv')]);
  t.equal(main.code, 0, `main client ran: ${main.stderr}`);
  t.equal(sub.code, 0, `sub client ran: ${sub.stderr}`);
  for (const [file, w, h] of [
    ['main.mkv', 704, 576],
    ['sub.mkv', 352, 288],
  ] as const) {
    const [v] = await probeFile(join(dir, file));
    t.match(v, { codec_type: 'video', codec_name: 'h264', width: w, height: h }, `${file}: H.264 ${w}x${h}`);
    t.ok(Number(v?.nb_read_packets) >= 50, `${file}: ${v?.nb_read_packets} frames in 4 s`);
    t.equal(await decodeErrors(join(dir, file)), '', `${file}: decodes without errors`);
  }
});
