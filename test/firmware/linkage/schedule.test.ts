import t from 'tap';
import { SchemaError } from '../../../firmware/core/schema.js';
import { inSchedule, localTime, weeklyScheduleSchema } from '../../../firmware/linkage/schedule.js';

// 2026-11-23 is a Monday.
const at = (iso: string) => Date.parse(iso);

t.test('local weekday and minute follow the time zone, including DST', async (t) => {
  t.same(localTime(at('2026-11-23T10:30:00Z'), 'UTC'), { day: 'mon', minute: 630 });
  t.same(localTime(at('2026-11-23T23:30:00Z'), 'Europe/Paris'), { day: 'tue', minute: 30 }, 'UTC+1 in winter: already Tuesday');
  t.same(localTime(at('2026-07-06T22:30:00Z'), 'Europe/Paris'), { day: 'tue', minute: 30 }, 'UTC+2 in summer');
  t.same(localTime(at('2026-11-23T03:00:00Z'), 'America/New_York'), { day: 'sun', minute: 22 * 60 });
});

t.test('a daytime range on working days', async (t) => {
  const s = weeklyScheduleSchema.parse([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }]);
  t.ok(inSchedule(s, at('2026-11-23T08:00:00Z'), 'UTC'), 'Monday 08:00: in (from is inclusive)');
  t.notOk(inSchedule(s, at('2026-11-23T18:00:00Z'), 'UTC'), 'Monday 18:00: out (to is exclusive)');
  t.notOk(inSchedule(s, at('2026-11-22T12:00:00Z'), 'UTC'), 'Sunday noon: out');
  t.ok(inSchedule(s, at('2026-11-23T07:30:00Z'), 'Europe/Paris'), '07:30 UTC is 08:30 in Paris');
});

t.test('an overnight range runs into the next day', async (t) => {
  const s = weeklyScheduleSchema.parse([{ days: ['fri'], from: '22:00', to: '06:00' }]);
  t.ok(inSchedule(s, at('2026-11-27T23:00:00Z'), 'UTC'), 'Friday 23:00');
  t.ok(inSchedule(s, at('2026-11-28T05:59:00Z'), 'UTC'), 'Saturday 05:59');
  t.notOk(inSchedule(s, at('2026-11-28T06:00:00Z'), 'UTC'), 'Saturday 06:00');
  t.notOk(inSchedule(s, at('2026-11-27T05:00:00Z'), 'UTC'), 'Friday 05:00 belongs to Thursday night, not scheduled');
  const allDay = weeklyScheduleSchema.parse([{ days: ['sun'], from: '00:00', to: '24:00' }]);
  t.ok(inSchedule(allDay, at('2026-11-22T23:59:00Z'), 'UTC'));
  t.notOk(inSchedule(allDay, at('2026-11-23T00:00:00Z'), 'UTC'));
});

t.test('no schedule is always; an empty one is never', async (t) => {
  t.ok(inSchedule(null, 0, 'UTC'));
  t.notOk(inSchedule([], 0, 'UTC'));
});

t.test('bad ranges are refused with the path', async (t) => {
  t.throws(() => weeklyScheduleSchema.parse([{ days: ['monday'], from: '08:00', to: '18:00' }]), SchemaError);
  t.throws(() => weeklyScheduleSchema.parse([{ days: ['mon'], from: '25:00', to: '18:00' }]), /\[0\]\.from/);
  t.throws(() => weeklyScheduleSchema.parse([{ days: ['mon'], from: '8:00', to: '18:00' }]), /\[0\]\.from/);
});
