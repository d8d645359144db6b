import { Writable } from 'node:stream';
import { array, int, nullable, object, string, type Schema } from '../../core/schema.js';
import type { Clock } from '../../core/clock.js';
import { exportToStream, RecordingError } from '../../recordings/export.js';
import { listRecordings, type RecordingList } from '../../recordings/list.js';
import { isoTime, parseTime, TimeFormatError } from '../../recordings/times.js';
import { MAX_EXPORT_US, MAX_LIST_US } from '../../recordings/commands.js';
import type { RingStore } from '../../storage/ring-store.js';
import type { Lock } from '../../storage/retention.js';
import type { AuditLog } from '../audit.js';
import type { Account } from '../auth/users.js';
import { rightsOn, type Right } from '../auth/roles.js';
import { badRequest, forbidden, HttpError, notFound } from '../http/errors.js';
import { SECURITY_HEADERS, type Router } from '../http/router.js';

export interface RecordingRouteDeps {
  /** The store, when the box has one running. */
  store: () => RingStore | undefined;
  clock: Clock;
  audit: AuditLog;
  channels: () => string[];
}

function need(d: RecordingRouteDeps, account: Account, channel: string, right: Right): RingStore {
  if (!d.channels().includes(channel)) throw notFound(`no channel "${channel}"`);
  if (!rightsOn(account.role, account.channels, channel).includes(right)) throw forbidden(`no ${right} right on channel ${channel}`);
  const store = d.store();
  if (!store) throw new HttpError(503, 'no-store', 'no recording disk is running');
  return store;
}

const us = int({ min: 0 }).describe('µs since the epoch');
const span = object({ start: us, end: us });
const lockSchema: Schema<Lock> = object({
  id: string(),
  channel: string(),
  start: us,
  end: us,
  reason: string(),
  expiresMs: int({ min: 0 }).optional().describe('when the lock lapses (ms since the epoch); absent: until removed'),
});
const listSchema: Schema<RecordingList> = object({
  channel: string(),
  from: us,
  to: us,
  segments: array(
    object({ start: us, end: us, durationUs: int({ min: 0 }), bytes: nullable(int({ min: 0 })).describe('null: the store cannot tell'), frames: int({ min: 0 }) }),
  ).describe('the main stream recorded (inclusive µs ranges)'),
  gaps: array(span).describe('the rest of the range'),
  locks: array(lockSchema),
  audio: array(span).describe('where audio was recorded too (empty: none)'),
});

/** `from` and `to` as ISO 8601 (with Z or an offset), `now`, or relative (-10m); the range bounded. */
function range(q: URLSearchParams, nowUs: number, maxUs: number): { from: number; to: number } {
  try {
    const from = parseTime(q.get('from') ?? '', nowUs);
    const to = parseTime(q.get('to') ?? 'now', nowUs);
    if (from >= to) throw badRequest(`from (${isoTime(from)}) must be before to (${isoTime(to)})`);
    if (to - from > maxUs) throw badRequest(`at most ${maxUs / 3600e6} hours at once`);
    return { from, to };
  } catch (e) {
    if (e instanceof TimeFormatError) throw badRequest(e.message);
    throw e;
  }
}

/** The timeline (recorded segments, gaps, locks), MP4 export and evidence locks of a channel's recordings. */
export function addRecordingRoutes(router: Router, d: RecordingRouteDeps): void {
  router.add({
    method: 'POST', path: '/api/v1/recordings/:channel/locks', access: 'operator', summary: 'lock from..to of a channel against overwrite and deletion (evidence)',
    body: object({ from: string({ min: 1, max: 40 }), to: string({ min: 1, max: 40 }), reason: string({ min: 1, max: 200 }) }),
    response: { status: 201, json: object({ lock: lockSchema }) },
    handler: async ({ params, body, account, from: client }) => {
      const channel = params.channel!;
      const store = need(d, account!, channel, 'playback');
      const r = range(new URLSearchParams({ from: body.from, to: body.to }), d.clock.now() * 1000, MAX_LIST_US);
      const lock = store.lock({ channel, start: r.from, end: r.to, reason: body.reason });
      await d.audit.record('lock', account!.name, client, { channel, id: lock.id, from: isoTime(r.from), to: isoTime(r.to), reason: body.reason });
      return { status: 201, body: { lock } };
    },
  });

  router.add({
    method: 'DELETE', path: '/api/v1/recordings/:channel/locks/:id', access: 'operator', summary: 'remove a lock: its range is overwritten in turn again',
    response: { status: 204, description: 'removed' },
    handler: async ({ params, account, from: client }) => {
      const channel = params.channel!;
      const store = need(d, account!, channel, 'playback');
      const id = params.id!;
      // Only a lock of this channel, so the right checked above is the right that counts.
      if (!store.timeline(channel, 'main', 0, Number.MAX_SAFE_INTEGER).locks.some((l) => l.id === id) || !store.unlock(id)) throw notFound('no such lock on this channel');
      await d.audit.record('unlock', account!.name, client, { channel, id });
      return { status: 204 };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/recordings/:channel', access: 'viewer', summary: 'recorded segments, gaps and locks of a channel between from and to (playback right)',
    response: { json: listSchema },
    handler: async ({ params, query, account }) => {
      const store = need(d, account!, params.channel!, 'playback');
      const { from, to } = range(query, d.clock.now() * 1000, MAX_LIST_US);
      return { body: listRecordings(store, params.channel!, from, to) };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/recordings/:channel/export.mp4', access: 'viewer', summary: 'download from..to as an MP4 file (export right; at most a day)',
    response: { file: 'video/mp4', description: 'a download (<channel>-<from>.mp4), streamed as it is made' },
    handler: async ({ params, query, account, res, from: client }) => {
      const channel = params.channel!;
      const store = need(d, account!, channel, 'export');
      const r = range(query, d.clock.now() * 1000, MAX_EXPORT_US);
      const name = `${channel}-${isoTime(r.from).replace(/[-:]/g, '').replace(/\.\d+/, '')}.mp4`;
      // Headers go out with the first byte: an empty range or a bad recording is still a JSON error.
      const out = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (!res.headersSent) {
            res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'video/mp4', 'content-disposition': `attachment; filename="${name}"` });
          }
          if (res.write(chunk)) cb();
          else res.once('drain', () => cb());
        },
        final(cb) {
          res.end();
          cb();
        },
      });
      res.on('close', () => out.destroy());
      try {
        const { bytes } = await exportToStream(store, { channel, fromUs: r.from, toUs: r.to }, out);
        await d.audit.record('export', account!.name, client, { channel, from: isoTime(r.from), to: isoTime(r.to), bytes });
      } catch (e) {
        if (e instanceof RecordingError && !res.headersSent) throw new HttpError(404, 'no-recording', e.message);
        throw e;
      }
      return undefined;
    },
  });
}
