import t from 'tap';
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../firmware/cli/commands.js';
import { formatBytes, localTime, recCommand, shieldRelativeTimes } from '../../../firmware/cli/rec.js';
import { UserError } from '../../../firmware/cli/user-error.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ControlService } from '../../../firmware/control/control-service.js';
import type { CommandRequest } from '../../../firmware/control/protocol.js';
import { recordingCommands } from '../../../firmware/recordings/commands.js';
import { ffprobe, tempDir } from '../media/helpers/ffmpeg.js';
import { openStore, record, shifted, sources, T0 } from '../recordings/helpers.js';

t.setTimeout(120_000);

// The control socket of a running firmware, with the real rec.* handlers over a real store.
const dir = await tempDir(t);
const src = await sources(dir, 4);
const { store, disks } = await openStore();
await record(store, 'cam', { main: src.h264, audio: src.aac });
await record(store, 'gappy', { main: { info: src.h264.info, frames: [...src.h264.frames.slice(0, 50), ...shifted({ info: src.h264.info, frames: src.h264.frames.slice(50) }, 20e6).frames] } });
store.lock({ channel: 'cam', start: T0 + 1e6, end: T0 + 2e6, reason: 'by hand' });
const commands = recordingCommands({ store, channels: () => ['cam', 'gappy'] });
const socket = join(dir, 'control.sock');
const control = new ControlService(socket, (req) => commands.get(req.cmd)!((req as CommandRequest).args ?? {}), memoryLogger('control'));
await control.start();
t.teardown(async () => {
  await control.stop();
  await store.stop();
  disks.cleanup();
});

const NOW = T0 + 10e6; // ten seconds after the recording started
async function rec(args: string[], values: { json?: boolean; fragmented?: boolean } = {}, cwd = dir): Promise<string> {
  let out = '';
  const [sub, ...rest] = args;
  await recCommand(sub, rest, values, () => socket, { nowUs: () => NOW, cwd: () => cwd, out: (s) => (out += s) });
  return out;
}

t.test('dvr rec list: a table of segments, gaps and locks', async (t) => {
  const text = await rec(['list', 'cam', '-1m', 'now']);
  t.match(text, /^channel cam, /);
  t.match(text, /1 segment\(s\), 3\.96s recorded, \d+\.\d+ KiB, with audio/);
  t.match(text, /START\s+END\s+DURATION\s+SIZE\s+FRAMES/);
  const esc = (x: string) => x.replace(/[+.]/g, '\\$&');
  t.match(text, new RegExp(`${esc(localTime(T0))}\\s+${esc(localTime(T0 + 3_960_000))}\\s+3\\.96s\\s+[\\d.]+ KiB\\s+100`));
  t.match(text, /gaps:/);
  t.match(text, /locks:\n.*\n.*by hand\s+never/);
  const g = await rec(['list', 'gappy', '2026-01-02T03:04:00Z', '2026-01-02T03:05:00Z']);
  t.match(g, /2 segment\(s\)/);
  t.match(g, /20\.0s/, 'the 20 s hole in the middle is a gap');
  const none = await rec(['list', 'cam', '2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z']);
  t.match(none, /no recording in this range/);
  const json = JSON.parse(await rec(['list', 'cam', '-1m', 'now'], { json: true })) as { segments: { frames: number }[] };
  t.equal(json.segments[0]!.frames, 100, '--json gives the listing as data');
});

t.test('dvr rec export: a relative path is resolved against the caller\'s working directory', async (t) => {
  const cwd = join(dir, 'home');
  await mkdir(cwd);
  const text = await rec(['export', 'cam', '-1m', 'now', 'out.mp4'], {}, cwd);
  const file = join(cwd, 'out.mp4');
  t.ok(existsSync(file), 'written in the caller\'s directory');
  t.match(text, `wrote ${file} (MP4, `);
  t.match(text, /video: h264, 100 frames/);
  t.match(text, /audio: aac 48000 Hz, \d+ frames/);
  const p = await ffprobe(file);
  t.same(p.streams.map((s) => s.codec_name), ['h264', 'aac']);
  t.equal(Number(p.streams[0]!.nb_read_frames), 100);

  const frag = await rec(['export', 'gappy', '2026-01-02T03:04:00Z', '2026-01-02T03:05:00Z', 'gap.mp4'], { fragmented: true }, cwd);
  t.match(frag, /fragmented MP4/);
  t.match(frag, /audio: none recorded/);
  t.match(frag, /gap: .* \(20\.0s, the picture holds\)/);
  const j = JSON.parse(await rec(['export', 'cam', '-1m', 'now', join(dir, 'abs.mp4')], { json: true })) as { file: string };
  t.equal(j.file, join(dir, 'abs.mp4'), 'an absolute path is kept');
});

t.test('argument errors: exit 2 with the reason, before asking the firmware', async (t) => {
  const cases: [string[], RegExp][] = [
    [['list', 'cam', 'yesterday', 'now'], /"yesterday" is not a time: use an ISO 8601 time/],
    [['list', 'cam', '2026-02-30T00:00', 'now'], /has no day 30/],
    [['list', 'cam', 'now', '-1h'], /the start \(now\) must be before the end \(-1h\)/],
    [['list', 'cam', 'now', 'now'], /must be before the end/],
    [['export', 'cam', '-10m', '-20m', 'x.mp4'], /must be before the end/],
    [['export', 'cam', '-10m', 'now', ''], /give the name of the file to write/],
    [['list', 'cam', 'now'], /usage: dvr rec list/],
    [['export', 'cam', '-1m', 'now'], /usage: dvr rec list .* \| dvr rec export/],
    [['delete', 'cam'], /usage:/],
  ];
  for (const [args, msg] of cases) {
    let out = '';
    const [sub, ...rest] = args;
    // A socket nobody listens on: these must fail before any request.
    const err = await recCommand(sub, rest, {}, () => join(dir, 'nobody.sock'), { nowUs: () => NOW, out: (s) => (out += s) }).catch((e: unknown) => e);
    t.ok(err instanceof UserError && err.exitCode === 2, `${args.join(' ')}: exit 2`);
    t.match((err as Error).message, msg);
    t.equal(out, '');
  }
  const none = await recCommand(undefined, [], {}, () => socket).catch((e: unknown) => e);
  t.ok(none instanceof UserError && none.exitCode === 2, 'no subcommand: usage, exit 2');
});

t.test('errors from the firmware: unknown channel, nothing recorded, not running', async (t) => {
  await t.rejects(rec(['list', 'garage', '-1m', 'now']), { name: 'RemoteError', message: /unknown channel "garage" \(known: cam, gappy\)/ });
  await t.rejects(rec(['export', 'cam', '2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z', 'none.mp4']), { message: /no recording of channel "cam" between/ });
  await t.rejects(rec(['export', 'cam', '-1m', 'now', 'out.mp4'], {}, join(dir, 'home')), { message: /already exists: remove it or choose another name/ });
  const err = await recCommand('list', ['cam', '-1m', 'now'], {}, () => join(dir, 'nobody.sock')).catch((e: unknown) => e);
  t.ok(err instanceof UserError && err.exitCode === 3, 'not running: exit 3');
  t.match((err as Error).message, /the firmware is not running/);
});

t.test('relative times survive option parsing: -10m is a time, not an option', async (t) => {
  t.same(shieldRelativeTimes(['rec', 'list', 'cam', '-10m', '-1h30m', '--json']), ['rec', 'list', 'cam', '\u221210m', '\u22121h30m', '--json']);
  t.same(shieldRelativeTimes(['config', 'set', 'a', '-10m']), ['config', 'set', 'a', '-10m'], 'other commands untouched');
  t.same(shieldRelativeTimes(['rec', 'list', '-n', '-x']), ['rec', 'list', '-n', '-x']);
  // Through the real argument parser: it reaches the socket (not running here) instead of failing on "-1".
  const varDir = join(dir, 'var');
  const err = await main(['rec', 'list', 'cam', '-10m', 'now', '--var', varDir, '--board', 'sim']).catch((e: unknown) => e);
  t.ok(err instanceof UserError && err.exitCode === 3, 'parsed; the firmware is not running');
  const err2 = await main(['rec', 'export', 'cam', '-10m', 'now', 'x.mp4', '--fragmented', '--var', varDir, '--board', 'sim']).catch((e: unknown) => e);
  t.ok(err2 instanceof UserError && err2.exitCode === 3, '--fragmented is an option of dvr');
});

t.test('sizes for people', async (t) => {
  t.equal(formatBytes(null), '?');
  t.equal(formatBytes(512), '512 B');
  t.equal(formatBytes(1536), '1.50 KiB');
  t.equal(formatBytes(300 * 1024 * 1024), '300.0 MiB');
  t.equal(formatBytes(5 * 1024 ** 5), '5120.0 TiB');
});
