/**
 * Against the real camera (gst-rtsp-server): a codec/transport/auth
 * combination delivers frames a decoder accepts, at the camera's rate and
 * GOP, with the SPS picture size. ffprobe is the judge of the bitstream.
 * Used by camera-h264.test.ts and camera-h265.test.ts (split so each file
 * stays well inside the test timeout on a loaded machine).
 */
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtspSource, type SourceTrack } from '../../../../firmware/media/rtsp/source.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';
import { startCamera } from './camera.js';
import { adts, annexB, ffprobeFile } from './media-check.js';

const MIN_FRAMES = 65; // 2.6 s at 25 fps

type Tap = Test;

export interface Case {
  codec: 'h264' | 'h265';
  audio: boolean;
  transport: 'tcp' | 'udp';
  auth: boolean;
}

/** Runs each case as a subtest of t. */
export function streamCases(t: Tap, cases: Case[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'rtsp-streams-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const c of cases) {
    const name = `${c.codec}${c.audio ? '+aac' : ''} over ${c.transport}${c.auth ? ' with digest auth' : ''}`;
    t.test(name, async (t) => {
      const password = 'pw-' + Math.random().toString(36).slice(2);
      const cam = await startCamera({ codec: c.codec, audio: c.audio, ...(c.auth ? { user: 'admin', password } : {}) });
      t.teardown(() => cam.stop());
      const src = new RtspSource({ url: cam.url, ...(c.auth ? { username: 'admin', password } : {}), transport: c.transport, udpTimeoutMs: 5000, reportIntervalMs: 1000 });
      const frames = new Map<number, Frame[]>();
      const infos = new Map<number, StreamInfo[]>();
      const warnings: string[] = [];
      src.on('frame', (tr: SourceTrack, f) => frames.set(tr.index, [...(frames.get(tr.index) ?? []), f]));
      src.on('info', (tr, i) => infos.set(tr.index, [...(infos.get(tr.index) ?? []), i]));
      src.on('warning', (e) => warnings.push(e.message));
      let closeErr: unknown = 'open';
      src.on('close', (e) => (closeErr = e));
      const startedAt = Date.now();
      const tracks = await src.start();
      t.equal(src.client.transport, c.transport, 'the requested transport is used');
      t.equal(tracks.length, c.audio ? 2 : 1);
      // At least 2 s of video from the first keyframe on, however slowly a loaded machine starts the encoder.
      const videoIndex = tracks.find((x) => x.kind === 'video')!.index;
      const deadline = Date.now() + 30000;
      while ((frames.get(videoIndex)?.length ?? 0) < MIN_FRAMES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const health = src.health();
      await src.stop();
      t.equal(closeErr, undefined, 'stop() closes without error');
      t.same(warnings, [], 'no warnings');

      const video = tracks.find((x) => x.kind === 'video')!;
      const vf = frames.get(video.index) ?? [];
      const vinfo = infos.get(video.index) ?? [];
      t.equal(vinfo.length, 1, 'one StreamInfo for the video');
      t.match(vinfo[0], { codec: c.codec, width: 704, height: 576 }, 'picture size from the SPS');
      t.ok(vf.length >= MIN_FRAMES, `≥ 2 s of video: ${vf.length} frames`);
      t.equal(vf[0]?.keyframe, true, 'starts on a keyframe');
      const span = (vf.at(-1)!.time - vf[0]!.time) / 1e6;
      const fps = (vf.length - 1) / span;
      t.ok(Math.abs(fps - 25) < 0.5, `fps from frame times ≈ 25: ${fps.toFixed(2)}`);
      const keys = vf.flatMap((f, i) => (f.keyframe ? [i] : []));
      t.ok(keys.every((k) => k % 50 === 0), `keyframes every 50 frames: at ${keys.join(', ')}`);
      t.ok(vf.every((f, i) => i === 0 || f.time > vf[i - 1]!.time), 'frame times increase');
      t.ok(vf[0]!.time / 1000 > startedAt - 5000 && vf[0]!.time / 1000 < Date.now() + 1000, 'times are wall-clock µs');
      const vh = health.find((h) => h.kind === 'video')!.health;
      t.ok(Math.abs(vh.fps - 25) < 2, `health fps ${vh.fps.toFixed(1)}`);
      t.ok(vh.bitsPerSecond > 10000, `health bitrate ${Math.round(vh.bitsPerSecond)} bit/s`);
      t.equal(vh.lostPackets, 0, 'no loss on loopback');

      const probe = await ffprobeFile(join(dir, `${c.codec}-${c.transport}.${c.codec}`), annexB(vinfo[0]!, vf));
      t.equal(probe.stderr, '', 'ffprobe reports no errors');
      t.equal(probe.stream.codec_name, c.codec === 'h264' ? 'h264' : 'hevc');
      t.equal(Number(probe.stream.nb_read_frames), vf.length, 'ffprobe decodes as many frames as we received');
      t.match(probe.stream, { width: 704, height: 576 });

      if (c.audio) {
        const audio = tracks.find((x) => x.kind === 'audio')!;
        const af = frames.get(audio.index) ?? [];
        const ainfo = infos.get(audio.index)![0]!;
        t.match(ainfo, { codec: 'aac', sampleRate: 48000, channels: 1 });
        const rate = (af.length - 1) / ((af.at(-1)!.time - af[0]!.time) / 1e6);
        t.ok(Math.abs(rate - 48000 / 1024) < 1, `AAC frames per second ≈ 46.9: ${rate.toFixed(2)}`);
        const ap = await ffprobeFile(join(dir, `${c.codec}-${c.transport}.aac`), adts(ainfo, af));
        t.equal(ap.stderr, '', 'ffprobe reports no AAC errors');
        t.equal(Number(ap.stream.nb_read_frames), af.length, 'ffprobe reads every AAC frame');
        t.match(ap.stream, { codec_name: 'aac', sample_rate: '48000', channels: 1 });
      }
    });
  }
}
