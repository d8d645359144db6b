import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { controlRequest } from '../../../firmware/control/control-client.js';
import { CONTROL_SOCKET } from '../../../firmware/control/protocol.js';
import { dvr, freePort, spawnDvr, startFirmware, waitFor } from '../../helpers/firmware.js';
import { recCommand } from '../../../firmware/cli/rec.js';
import { UserError } from '../../../firmware/cli/user-error.js';
import { startCamera } from '../media/rtsp/camera.js';
import { decodeErrors, ffprobe } from '../media/helpers/ffmpeg.js';

t.setTimeout(180_000);

/** Decode times of the first video stream's packets (s), as ffprobe reads them. */
async function packetTimes(file: string): Promise<number[]> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', file], (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  return out.trim().split('\n').map(Number);
}

/** `dvr ...` as a user runs it, from a working directory of their own. */
function dvrIn(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnDvr(args, { cwd, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

t.test('the running firmware records a camera; dvr rec list and dvr rec export give it back as a playable MP4', async (t) => {
  const camera = await startCamera({ codec: 'h264' });
  t.teardown(() => camera.stop());
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-rec-'));
  t.teardown(() => rmSync(varDir, { recursive: true, force: true }));
  const common = ['--board', 'sim', '--var', varDir];
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  writeFileSync(
    join(varDir, 'data', 'config', 'config.json'),
    JSON.stringify({
      version: CONFIG_VERSION,
      network: { httpPort: await freePort(), httpsPort: await freePort(), rtspPort: await freePort(), bindAddress: '127.0.0.1' },
      channels: [{ id: 'gate', name: 'Gate', main: { url: camera.url } }],
    }),
  );
  const t0 = Date.now();
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  // Polled on the control socket in-process: a `dvr` child a poll costs seconds on a loaded machine.
  const socket = join(loadBoardProfile('sim', varDir).paths.run, CONTROL_SOCKET);
  await waitFor(
    'five seconds of the gate camera recorded',
    async () => {
      const now = Date.now() * 1000;
      const l = (await controlRequest(socket, { cmd: 'rec.list', args: { channel: 'gate', from: now - 300e6, to: now } })) as { segments: { durationUs: number }[] };
      return l.segments.reduce((a, s) => a + s.durationUs, 0) >= 5e6;
    },
    60_000,
  );

  t.comment(`recording after ${Date.now() - t0} ms`);
  const home = mkdtempSync(join(tmpdir(), 'dvr-user-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  // Each `dvr` start compiles TypeScript (many seconds on a loaded machine): two commands as a user types them,
  // side by side; the other cases go through the same code in-process, against the same running firmware.
  const [list, ex] = await Promise.all([
    dvr(['rec', 'list', 'gate', '-5m', 'now', ...common]),
    dvrIn(home, ['rec', 'export', 'gate', '-5m', 'now', 'clip.mp4', '--json', ...common]),
  ]);
  const inProcess = async (args: string[], values: { fragmented?: boolean } = {}) => {
    let out = '';
    const [sub, ...rest] = args;
    try {
      await recCommand(sub, rest, values, () => socket, { cwd: () => home, out: (x) => (out += x) });
      return { code: 0, stdout: out, stderr: '' };
    } catch (e) {
      return { code: e instanceof UserError ? e.exitCode : 1, stdout: out, stderr: `dvr: ${(e as Error).message}` };
    }
  };
  const frag = await inProcess(['export', 'gate', '-5m', 'now', 'clip-frag.mp4'], { fragmented: true });
  const unknown = await inProcess(['list', 'garage', '-5m', 'now']);
  const backwards = await inProcess(['export', 'gate', 'now', '-5m', 'x.mp4']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^channel gate, /);
  t.match(list.stdout, /1 segment\(s\), \S+ recorded/);
  t.match(list.stdout, /START\s+END\s+DURATION\s+SIZE\s+FRAMES/);

  t.equal(ex.code, 0, ex.stderr);
  const summary = JSON.parse(ex.stdout) as { file: string; video: { codec: string; frames: number; first: number; last: number } };
  t.equal(summary.file, join(home, 'clip.mp4'), 'written where the user stands');
  t.ok(summary.video.frames >= 100, `${summary.video.frames} frames exported`);
  const p = await ffprobe(summary.file);
  t.equal(p.stderr, '', 'ffprobe reports no errors');
  t.equal(p.streams[0]!.codec_name, 'h264');
  t.equal(Number(p.streams[0]!.nb_read_frames), summary.video.frames, 'every frame the store held for the range');
  const seconds = (summary.video.last - summary.video.first) / 1e6;
  t.ok(Math.abs(Number(p.streams[0]!.duration) - seconds) < 0.5, `duration ${p.streams[0]!.duration} s ≈ ${seconds.toFixed(2)} s recorded`);
  t.equal(await decodeErrors(summary.file), '', 'decodes without errors');

  t.equal(frag.code, 0, frag.stderr);
  t.match(frag.stdout, /wrote .*clip-frag\.mp4 \(fragmented MP4, /);
  const pf = await ffprobe(join(home, 'clip-frag.mp4'));
  t.equal(pf.stderr, '', 'ffprobe reports no errors in the fragmented file');
  t.ok(Number(pf.streams[0]!.nb_read_frames) >= 100);
  t.equal(await decodeErrors(join(home, 'clip-frag.mp4')), '', 'the fragmented file decodes without errors');
  const dts = (await packetTimes(join(home, 'clip-frag.mp4'))).filter((x) => Number.isFinite(x));
  t.ok(dts.length >= 100 && dts.every((x, i) => i === 0 || x > dts[i - 1]!), 'its video decode times only increase, across every fragment');

  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /^dvr: unknown channel "garage" \(known: gate\)/);
  t.equal(backwards.code, 2);
  t.match(backwards.stderr, /^dvr: the start \(now\) must be before the end \(-5m\)/, 'the user\'s own words in the message');
  // More argument errors: test/firmware/cli/rec.test.ts (in-process, the same code).

  t.comment(`commands done after ${Date.now() - t0} ms`);
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0, 'stops cleanly');
});
