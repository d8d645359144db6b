/**
 * IP camera ingest, the firmware against ffmpeg, side by side in one run:
 * N gst-rtsp-server cameras (H.264, 4 Mbit/s, 25 fps) each recorded both by
 * the firmware's channel code (NvrService → RingStore on an ext4 loop disk)
 * and by `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` (what
 * Frigate and Shinobi run), for `seconds`:
 *  - CPU seconds per camera-minute for both (this process vs the ffmpeg
 *    processes, from /proc), and the ratio (target ≤ 0.5);
 *  - frames the firmware dropped (store refusals);
 *  - latency from a frame's time to the store's writer, and, in a second
 *    phase with one restream client per camera, to an RTSP client of the
 *    restream (p50/p99). A frame's time is the camera's capture time when it
 *    sends sender reports (gst-rtsp-server does, same host clock), so both
 *    latencies include the camera's own encode and send delay; their
 *    difference is what the restream adds.
 *
 * By default the cameras play a recorded clip of the live test camera's
 * stream (x264 encoding noise at 720p, 4 Mbit/s, made once with the camera
 * script's --record and kept under var/bench/clips/): gst-rtsp-server sends
 * it in real time, from its start for each client, as N cameras of their own
 * would, for almost no CPU, so N = 8 fits this machine beside the firmware
 * and N ffmpeg processes. BENCH_CAMERA=live encodes live instead, which
 * costs more than a core per camera here: then each camera process serves
 * `perCamera` channels (gst-rtsp-server's shared media: one encoder, an RTSP
 * session and a TCP connection per client).
 *
 *   node dist/scripts/bench/nvr-ingest.js [cameras=2] [seconds=60] [perCamera=1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../firmware/core/bus.js';
import { systemClock } from '../../firmware/core/clock.js';
import { memoryLogger } from '../../firmware/core/log.js';
import { NvrService, type ChannelSettings, type RecordingSink } from '../../firmware/channels/nvr-service.js';
import { Authenticator } from '../../firmware/media/rtsp/auth.js';
import { RtspParser } from '../../firmware/media/rtsp/parser.js';
import { digestHa1 } from '../../firmware/media/rtsp/server-auth.js';
import { parseRtp } from '../../firmware/media/rtp/packet.js';
import { ntpToUnixMicros, parseRtcp } from '../../firmware/media/rtp/rtcp.js';
import { RestreamService } from '../../firmware/restream/restream-service.js';
import { RingStore } from '../../firmware/storage/ring-store.js';
import { benchDisk, machine } from './storage-bench-disk.js';
import { pct, recordedClip, startBenchCamera } from './camera-harness.js';

const cameras = Number(process.argv[2] ?? 2);
const seconds = Number(process.argv[3] ?? 60);
const perCamera = Math.max(1, Number(process.argv[4] ?? 1));
const TICK = 100; // USER_HZ on Linux
const WARM_UP_MS = Number(process.env['BENCH_WARM_UP_MS'] ?? 15_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const procCpu = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
};

const LIVE = process.env['BENCH_CAMERA'] === 'live';
const STREAM = ['--bitrate', '4000', '--fps', '25', '--width', '1280', '--height', '720', '--pattern', 'snow'];
const startCamera = () => startBenchCamera(STREAM);

/** A restream client measuring arrival − frame time for each video frame (from our sender reports). */
function measureClient(port: number, path: string, user: string, password: string, out: number[]): () => void {
  const s = connect(port, '127.0.0.1');
  const parser = new RtspParser();
  const auth = new Authenticator({ username: user, password });
  const base = `rtsp://127.0.0.1:${port}/${path}`;
  let cseq = 0;
  let session = '';
  let sr: { us: number; ts: number } | undefined;
  const steps: [string, string, Record<string, string>][] = [
    ['DESCRIBE', base, {}],
    ['SETUP', `${base}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }],
    ['PLAY', base, {}],
  ];
  let step = 0;
  const send = () => {
    const [m, u, h] = steps[step]!;
    const a = auth.authorization(m, u);
    const head = { CSeq: String(++cseq), ...h, ...(session ? { Session: session } : {}), ...(a ? { Authorization: a } : {}) };
    s.write(`${m} ${u} RTSP/1.0\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  };
  s.on('data', (d) => {
    const now = Date.now() * 1000;
    for (const it of parser.push(d)) {
      if (it.type === 'response') {
        if (it.message.status === 401) auth.challenge(it.message.headers.getAll('www-authenticate'));
        else step++;
        session = it.message.headers.get('session')?.split(';')[0] ?? session;
        if (step < steps.length) send();
      } else if (it.type === 'interleaved' && it.channel === 1) {
        const p = parseRtcp(it.data)[0];
        if (p?.type === 'sr') sr = { us: ntpToUnixMicros(p.ntpSeconds, p.ntpFraction), ts: p.rtpTimestamp };
      } else if (it.type === 'interleaved' && it.channel === 0 && sr) {
        const pkt = parseRtp(it.data);
        if (pkt.marker) out.push((now - (sr.us + (((pkt.timestamp - sr.ts) | 0) * 1e6) / 90000)) / 1000);
      }
    }
  });
  s.on('error', () => {});
  send();
  return () => s.destroy();
}

async function main(): Promise<void> {
  console.log(`nvr-ingest on ${machine()}; ${cameras} cameras × 4 Mbit/s H.264 1280x720 25 fps, ${seconds} s, ${LIVE ? `live x264${perCamera > 1 ? `, ${perCamera} channels per camera process` : ''}` : 'a recorded clip played to each'}`);
  // The clip covers the warm-up, the measurement, the restream phase and a margin.
  const clip = LIVE ? null : await recordedClip(STREAM, Math.ceil((WARM_UP_MS / 1000 + seconds + Math.min(20, seconds) + 15) / 30) * 30);
  const sources = clip
    ? [await startBenchCamera(['--file', clip])]
    : await Promise.all(Array.from({ length: Math.ceil(cameras / perCamera) }, startCamera));
  const cams = Array.from({ length: cameras }, (_, i) => sources[clip ? 0 : Math.floor(i / perCamera)]!);
  const disk = benchDisk(Math.max(2048, cameras * seconds * 2));
  const segDir = mkdtempSync(join(tmpdir(), 'nvr-ingest-ffmpeg-'));
  const log = memoryLogger('bench');
  const store = new RingStore({ bus: new EventBus(), log, disks: [{ name: 'd0', path: disk.path }] });
  await store.start();
  const writerLatency: number[] = [];
  let refused = 0;
  let frames = 0;
  const sink: RecordingSink = {
    setStreamInfo: (c, s, i) => store.setStreamInfo(c, s, i),
    append: (c, s, f) => {
      if (s === 'main') {
        writerLatency.push((Date.now() * 1000 - f.time) / 1000);
        frames++;
      }
      const ok = store.append(c, s, f);
      if (!ok) refused++;
      return ok;
    },
    closeStream: (c, s) => store.closeStream(c, s),
  };
  const channels: ChannelSettings[] = cams.map((c, i) => ({ id: `cam${i + 1}`, name: `Cam ${i + 1}`, enabled: true, kind: 'ip', main: { url: c.url, transport: 'tcp' }, username: null, password: null }));
  const nvr = new NvrService({ bus: new EventBus(), clock: systemClock, log, channels: () => channels, store: sink });
  const ffmpegs = cams.map((c, i) =>
    spawn('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-i', c.url, '-c', 'copy', '-f', 'segment', '-segment_time', '60', join(segDir, `cam${i + 1}-%03d.mkv`)], { stdio: 'ignore' }),
  );
  await nvr.start();
  // Both connected and past their first keyframe, and V8 done optimizing the
  // ingest path (its compiler threads count as the firmware's CPU: with 5 s
  // of warm-up, one run's first 5 s slice took 115 ms against 61-94 ms for
  // each later one). A recorder runs for months, so the steady state is what
  // it costs; the slices printed below show it.
  await sleep(WARM_UP_MS);
  writerLatency.length = 0;
  frames = 0;
  const c0 = process.cpuUsage();
  const f0 = ffmpegs.map((p) => procCpu(p.pid!));
  const slices: number[] = [];
  for (let left = seconds * 1000; left > 0; left -= 5000) {
    const s0 = process.cpuUsage();
    await sleep(Math.min(5000, left));
    const d = process.cpuUsage(s0);
    slices.push(Math.round((d.user + d.system) / 1000));
  }
  const cpu = process.cpuUsage(c0);
  const ours = (cpu.user + cpu.system) / 1e6;
  const theirs = ffmpegs.reduce((n, p, i) => n + procCpu(p.pid!) - f0[i]!, 0);
  const perCamMin = (s: number) => s / cameras / (seconds / 60);
  console.log(`firmware: ${ours.toFixed(2)} CPU s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}) = ${perCamMin(ours).toFixed(3)} CPU s per camera-minute; ${frames} frames recorded, ${refused} refused by the store`);
  console.log(`ffmpeg -c copy -f segment: ${theirs.toFixed(2)} CPU s = ${perCamMin(theirs).toFixed(3)} CPU s per camera-minute`);
  console.log(`ratio firmware / ffmpeg: ${(ours / theirs).toFixed(2)} (target ≤ 0.5)`);
  console.log(`firmware CPU ms per 5 s slice: ${slices.join(' ')} (after ${WARM_UP_MS / 1000} s of warm-up)`);
  // What one core would hold by CPU alone, at this per-camera cost (an extrapolation; `refused` says whether these N kept up).
  console.log(`one core at this cost: about ${Math.floor(60 / perCamMin(ours))} cameras (extrapolated from ${cameras}); ${refused} frames refused`);
  console.log(`frame time → store writer: p50 ${pct(writerLatency, 50).toFixed(1)} ms, p99 ${pct(writerLatency, 99).toFixed(1)} ms (includes the camera's encode/send delay)`);
  for (const p of ffmpegs) p.kill('SIGINT');

  const restream = new RestreamService({
    clock: systemClock, log, channels: nvr, port: 0, bindAddress: '127.0.0.1',
    users: { ha1: (u, r) => digestHa1(u, r, 'Bench-pass-1'), mayWatch: () => true },
  });
  await restream.start();
  const outLatency: number[] = [];
  const stops = channels.map((c) => measureClient(restream.port!, `${c.id}/main`, 'bench', 'Bench-pass-1', outLatency));
  writerLatency.length = 0;
  await sleep(Math.min(20, seconds) * 1000);
  console.log(`with ${cameras} restream clients: frame time → store writer p50 ${pct(writerLatency, 50).toFixed(1)} ms, p99 ${pct(writerLatency, 99).toFixed(1)} ms; → RTSP client p50 ${pct(outLatency, 50).toFixed(1)} ms, p99 ${pct(outLatency, 99).toFixed(1)} ms (${outLatency.length} frames)`);
  for (const s of stops) s();
  await restream.stop();
  await nvr.stop();
  await store.stop();
  for (const c of sources) c.proc.kill('SIGTERM');
  disk.cleanup();
  rmSync(segDir, { recursive: true, force: true });
}

await main();
process.exit(0);
