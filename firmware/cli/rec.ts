/**
 * `dvr rec list <channel> <from> <to> [--json]` and
 * `dvr rec export <channel> <from> <to> <out.mp4> [--fragmented]`.
 * Times are parsed here, where the user is (their time zone, their "now");
 * the output path is resolved against their working directory. The running
 * firmware does the work through its control socket.
 */
import { resolve } from 'node:path';
import { controlRequest, NotRunningError } from '../control/control-client.js';
import type { RecordingList } from '../recordings/list.js';
import type { ExportSummary } from '../recordings/export.js';
import { formatDuration, parseTime, TimeFormatError } from '../recordings/times.js';
import type { Values } from './commands.js';
import { UserError } from './user-error.js';

const USAGE = 'usage: dvr rec list <channel> <from> <to> [--json] | dvr rec export <channel> <from> <to> <out.mp4> [--fragmented]';

/** An export of a day can take a while: the socket waits this long for the answer. */
const EXPORT_TIMEOUT_MS = 6 * 3600_000;

export interface RecDeps {
  /** µs since the epoch (injectable for tests). */
  nowUs?: () => number;
  cwd?: () => string;
  out?: (text: string) => void;
}

/**
 * `-10m` on a command line looks like an option to parseArgs. For `dvr rec`
 * the leading minus of a relative time becomes U+2212 (the minus sign, which
 * parseTime takes as "-"), so the argument stays a positional.
 */
export function shieldRelativeTimes(argv: string[]): string[] {
  if (!argv.includes('rec')) return argv;
  return argv.map((a) => (/^-(\d{1,6}[smhd])+$/.test(a) ? `\u2212${a.slice(1)}` : a));
}

function times(from: string, to: string, nowUs: number): { from: number; to: number } {
  try {
    const f = parseTime(from, nowUs);
    const t = parseTime(to, nowUs);
    const said = (x: string) => x.replace(/^\u2212/, '-'); // as the user typed it (see shieldRelativeTimes)
    if (f >= t) throw new UserError(`the start (${said(from)}) must be before the end (${said(to)})`, 2);
    return { from: f, to: t };
  } catch (e) {
    if (e instanceof TimeFormatError) throw new UserError(e.message, 2);
    throw e;
  }
}

async function request(socket: string, cmd: string, args: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
  try {
    return await controlRequest(socket, { cmd, args }, timeoutMs);
  } catch (e) {
    if (e instanceof NotRunningError) throw new UserError('the firmware is not running: recordings are read through it (start it with dvr start)', 3);
    throw e;
  }
}

/** Local time with offset, to the second: what people read in a table. */
export function localTime(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

export function formatBytes(n: number | null): string {
  if (n === null) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** The listing for people: segments, then gaps, then locks. */
export function formatList(l: RecordingList): string {
  const out: string[] = [`channel ${l.channel}, ${localTime(l.from)} to ${localTime(l.to)}`];
  if (l.segments.length === 0) out.push('no recording in this range');
  else {
    const total = l.segments.reduce((a, s) => a + s.durationUs, 0);
    const bytes = l.segments.some((s) => s.bytes === null) ? null : l.segments.reduce((a, s) => a + (s.bytes ?? 0), 0);
    out.push(`${l.segments.length} segment(s), ${formatDuration(total)} recorded, ${formatBytes(bytes)}${l.audio.length ? ', with audio' : ''}`, '');
    out.push(table([['START', 'END', 'DURATION', 'SIZE', 'FRAMES'], ...l.segments.map((s) => [localTime(s.start), localTime(s.end), formatDuration(s.durationUs), formatBytes(s.bytes), String(s.frames)])]));
  }
  if (l.gaps.length) {
    out.push('', 'gaps:');
    out.push(table([['START', 'END', 'DURATION'], ...l.gaps.map((g) => [localTime(g.start), localTime(g.end), formatDuration(g.end - g.start)])]));
  }
  if (l.locks.length) {
    out.push('', 'locks:');
    out.push(table([['START', 'END', 'REASON', 'EXPIRES'], ...l.locks.map((k) => [localTime(k.start), localTime(k.end), k.reason, k.expiresMs ? localTime(k.expiresMs * 1000) : 'never'])]));
  }
  return out.join('\n');
}

export function formatExport(s: ExportSummary): string {
  const v = s.video;
  const lines = [
    `wrote ${s.file} (${s.format === 'fmp4' ? 'fragmented MP4' : 'MP4'}, ${formatBytes(s.bytes)})`,
    `  video: ${v.codec}${v.width ? ` ${v.width}x${v.height}` : ''}, ${v.frames} frames, ${localTime(v.first)} to ${localTime(v.last)} (${formatDuration(v.last - v.first)})`,
    s.audio ? `  audio: ${s.audio.codec}${s.audio.sampleRate ? ` ${s.audio.sampleRate} Hz` : ''}, ${s.audio.frames} frames` : '  audio: none recorded',
  ];
  for (const g of s.gaps) lines.push(`  gap: ${localTime(g.start)} to ${localTime(g.end)} (${formatDuration(g.end - g.start)}, the picture holds)`);
  if (s.cutAt !== null) lines.push(`  stopped at ${localTime(s.cutAt)}: the camera's stream changed there (export the rest from that time)`);
  return lines.join('\n');
}

export async function recCommand(sub: string | undefined, args: string[], values: Values, socket: () => string, deps: RecDeps = {}): Promise<number> {
  const nowUs = (deps.nowUs ?? (() => Date.now() * 1000))();
  const print = deps.out ?? ((s: string) => void process.stdout.write(`${s}\n`));
  switch (sub) {
    case 'list': {
      if (args.length !== 3) throw new UserError(USAGE, 2);
      const [channel, from, to] = args as [string, string, string];
      const r = times(from, to, nowUs);
      const list = (await request(socket(), 'rec.list', { channel, from: r.from, to: r.to })) as RecordingList;
      print(values.json ? JSON.stringify(list, null, 2) : formatList(list));
      return 0;
    }
    case 'export': {
      if (args.length !== 4) throw new UserError(USAGE, 2);
      const [channel, from, to, out] = args as [string, string, string, string];
      const r = times(from, to, nowUs);
      if (out.length === 0) throw new UserError('give the name of the file to write', 2);
      const file = resolve((deps.cwd ?? process.cwd)(), out);
      const summary = (await request(socket(), 'rec.export', { channel, from: r.from, to: r.to, file, fragmented: values.fragmented === true }, EXPORT_TIMEOUT_MS)) as ExportSummary;
      print(values.json ? JSON.stringify(summary, null, 2) : formatExport(summary));
      return 0;
    }
    default:
      throw new UserError(USAGE, 2);
  }
}
