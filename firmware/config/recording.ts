// When a channel is recorded: the `recording` field of IP and analog channels.
import { array, int, nullable, object, oneOf, string, type Infer } from '../core/schema.js';

/** One day of a weekly schedule: 48 half hours from 00:00 local time, one letter each (see SLOT_MODES). */
const day = string({ min: 48, max: 48, pattern: /^[CMAE-]{48}$/ });

export const recordScheduleSchema = object({
  days: array(day, { min: 7, max: 7 }).describe(
    'Monday first; each day 48 letters, one per half hour from 00:00 in system.timezone: C continuous, M motion, A alarm, E motion or alarm, - none',
  ),
  preSec: int({ min: 0, max: 60 }).default(5).describe('motion recording starts this long before the motion (as far as the buffer reaches)'),
  postSec: int({ min: 0, max: 600 }).default(10).describe('motion recording goes on this long after the motion ends'),
});
export type RecordSchedule = Infer<typeof recordScheduleSchema>;

export const channelRecordingSchema = object({
  mode: oneOf(['continuous', 'events', 'off'] as const)
    .default('continuous')
    .describe(
      'continuous: all the time; events: only while a linkage rule records the channel (with its pre- and post-record) or recording is switched on by hand; off: never (live view only). Ignored while a schedule is set',
    ),
  schedule: nullable(recordScheduleSchema)
    .default(null)
    .describe('a weekly grid that replaces mode; null: mode decides. Recording switched on by hand records in any half hour'),
  maxDays: nullable(int({ min: 1, max: 3650 }))
    .default(null)
    .describe('this channel\'s recordings older than this many days are deleted (locked ones are kept); null: storage.maxDays'),
  quotaPercent: nullable(int({ min: 1, max: 100 }))
    .default(null)
    .describe('share of the disks this channel may fill before it overwrites its own oldest recording first; null: no limit of its own'),
});
