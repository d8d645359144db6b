import { array, object, oneOf, string, type Infer } from '../core/schema.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];

const hhmm = string({ pattern: /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/ });

/**
 * A weekly schedule: the union of its ranges. A range whose `to` is not after
 * its `from` runs past midnight into the next day (22:00-06:00), as night
 * arming on a DVR does. An empty list never matches; "always" is no schedule.
 */
export const weeklyScheduleSchema = array(
  object({
    days: array(oneOf(DAYS), { max: 7 }).describe('days the range starts on'),
    from: hhmm.describe('HH:MM, local time of system.timezone'),
    to: hhmm.describe('HH:MM; not after "from": ends the next day'),
  }),
  { max: 32 },
);
export type WeeklySchedule = Infer<typeof weeklyScheduleSchema>;

const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/** Weekday and minute of the day of `ms` in `timeZone` (IANA name). */
export function localTime(ms: number, timeZone: string): { day: Day; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').toLowerCase().slice(0, 3) as Day;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** True when `ms` falls in the schedule; null means always. */
export function inSchedule(schedule: WeeklySchedule | null, ms: number, timeZone: string): boolean {
  if (schedule === null) return true;
  const { day, minute } = localTime(ms, timeZone);
  const yesterday = DAYS[(DAYS.indexOf(day) + 6) % 7];
  for (const r of schedule) {
    const from = minutes(r.from);
    const to = minutes(r.to);
    if (to > from) {
      if (r.days.includes(day) && minute >= from && minute < to) return true;
    } else {
      // Overnight: the evening part on its own day, the morning part on the next.
      if (r.days.includes(day) && minute >= from) return true;
      if (r.days.includes(yesterday) && minute < to) return true;
    }
  }
  return false;
}
