/**
 * `rec.list` and `rec.export` on the control socket (`dvr rec ...`). Times
 * arrive as µs since the epoch (the CLI parses what the user typed, in the
 * user's time zone) and paths as absolute paths (resolved against the
 * user's working directory by the CLI); both are checked again here.
 */
import { isAbsolute } from 'node:path';
import type { ControlCommands } from '../control/protocol.js';
import type { RingStore } from '../storage/ring-store.js';
import { exportRecording, RecordingError } from './export.js';
import { listRecordings } from './list.js';
import { MAX_TIME_US, MIN_TIME_US, formatDuration, isoTime } from './times.js';

/** Longest range `rec.list` answers (a timeline of a year is still a few ms). */
export const MAX_LIST_US = 400 * 86_400e6;
/** Longest range one `rec.export` writes: a day of a 4 Mbit/s camera is ≈43 GB already. */
export const MAX_EXPORT_US = 86_400e6;

export interface RecordingCommandDeps {
  store: RingStore;
  /** Channel ids of the config; channels with recordings left in the store count too. */
  channels?: () => string[];
}

function knownChannels(deps: RecordingCommandDeps): string[] {
  const ids = new Set(deps.channels?.() ?? []);
  for (const s of deps.store.streams()) ids.add(s.channel);
  return [...ids].sort();
}

function channelArg(args: Record<string, unknown>, deps: RecordingCommandDeps): string {
  const c = args.channel;
  if (typeof c !== 'string' || c.length === 0 || c.length > 64) throw new RecordingError('channel: give a channel id');
  const known = knownChannels(deps);
  if (!known.includes(c)) throw new RecordingError(`unknown channel "${c}" (${known.length ? `known: ${known.join(', ')}` : 'no channel is configured or recorded'})`);
  return c;
}

function timeArg(args: Record<string, unknown>, name: 'from' | 'to'): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new RecordingError(`${name}: give a time in µs since the epoch`);
  if (v < MIN_TIME_US || v >= MAX_TIME_US) throw new RecordingError(`${name}: ${v} µs is outside the years 2000 to 2099`);
  return v;
}

function rangeArgs(args: Record<string, unknown>, maxUs: number, what: string): { from: number; to: number } {
  const from = timeArg(args, 'from');
  const to = timeArg(args, 'to');
  if (from >= to) throw new RecordingError(`the start (${isoTime(from)}) must be before the end (${isoTime(to)})`);
  if (to - from > maxUs) throw new RecordingError(`${what} covers at most ${formatDuration(maxUs)} at once; ${formatDuration(to - from)} asked`);
  return { from, to };
}

export function recordingCommands(deps: RecordingCommandDeps): ControlCommands {
  return new Map<string, (args: Record<string, unknown>) => Promise<unknown>>([
    [
      'rec.list',
      async (args) => {
        const channel = channelArg(args, deps);
        const { from, to } = rangeArgs(args, MAX_LIST_US, 'a listing');
        return listRecordings(deps.store, channel, from, to);
      },
    ],
    [
      'rec.export',
      async (args) => {
        const channel = channelArg(args, deps);
        const { from, to } = rangeArgs(args, MAX_EXPORT_US, 'an export');
        const file = args.file;
        if (typeof file !== 'string' || !isAbsolute(file) || file.includes('\0') || file.length > 4096) {
          throw new RecordingError('file: give the absolute path of the file to write');
        }
        if (args.fragmented !== undefined && typeof args.fragmented !== 'boolean') throw new RecordingError('fragmented: true or false');
        return exportRecording(deps.store, { channel, fromUs: from, toUs: to, file, fragmented: args.fragmented === true });
      },
    ],
  ]);
}
