import { array, boolean, int, nullable, object, oneOf, string, type Schema } from '../../core/schema.js';
import { EVENT_TYPES, type EventJournal, type EventType, type JournalEvent } from '../../events/journal.js';
import { rightsOn } from '../auth/roles.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';

const eventSchema: Schema<JournalEvent> = object({
  at: int({ min: 0 }).describe('ms since the epoch'),
  type: oneOf(EVENT_TYPES),
  channel: nullable(string()).describe("null: the box's own (alarm inputs, disks, linkage)"),
  active: nullable(boolean()).describe('start (true) or end (false) of a condition; null: a one-off'),
  text: string(),
});

/** The event list: what happened, newest first, only on channels the caller may watch or play back. */
export function addEventRoutes(router: Router, d: { events: () => EventJournal | undefined; channels: () => string[] }): void {
  router.add({
    method: 'GET', path: '/api/v1/events', access: 'viewer', summary: 'events newest first; filters: from, to (ms), type (repeatable), channel, limit (≤ 5000)',
    response: { json: object({ events: array(eventSchema, { max: 5000 }) }) },
    handler: async ({ query, account }) => {
      const journal = d.events();
      if (!journal) throw new HttpError(503, 'no-events', 'the event journal is not running');
      const num = (k: string) => {
        const v = query.get(k);
        if (v === null) return undefined;
        if (!/^\d{1,15}$/.test(v)) throw badRequest(`${k}: a number`);
        return Number(v);
      };
      const types = query.getAll('type');
      for (const t of types) if (!EVENT_TYPES.includes(t as EventType)) throw badRequest(`type: one of ${EVENT_TYPES.join(', ')}`);
      const visible = d.channels().filter((c) => rightsOn(account!.role, account!.channels, c).some((r) => r === 'live' || r === 'playback'));
      const channel = query.get('channel');
      const from = num('from');
      const to = num('to');
      const limit = num('limit');
      const events = journal.query({
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(types.length ? { types: types as EventType[] } : {}),
        channels: channel === null ? visible : visible.filter((c) => c === channel),
        boxEvents: channel === null,
      });
      return { body: { events } };
    },
  });
}
