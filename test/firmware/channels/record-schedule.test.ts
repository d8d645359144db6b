// The weekly schedule's clock: which half hour of the week a moment is, by
// the wall clock of the box's zone, across midnight, odd offsets and DST.
import t from 'tap';
import { holdRecords, localSlot, SlotCache, slotMode, type SlotMode } from '../../../firmware/channels/record-schedule.js';
import { recordScheduleSchema } from '../../../firmware/config/recording.js';

const utc = (...a: [number, number, number, number, number?, number?, number?]) => Date.UTC(...a);
const slot = (ms: number, zone: string) => {
  const s = localSlot(ms, zone);
  return [s.day, s.slot];
};

t.test('Monday is day 0; the week turns at local midnight', async (t) => {
  // 5 January 2026 is a Monday.
  t.same(localSlot(utc(2026, 0, 5, 0, 0), 'UTC'), { day: 0, slot: 0, from: utc(2026, 0, 5, 0, 0), until: utc(2026, 0, 5, 0, 30) });
  t.same(slot(utc(2026, 0, 4, 23, 59, 59, 999), 'UTC'), [6, 47], 'the last millisecond of Sunday');
  t.same(slot(utc(2026, 0, 5, 0, 29, 59, 999), 'UTC'), [0, 0]);
  t.same(slot(utc(2026, 0, 5, 0, 30), 'UTC'), [0, 1]);
  t.same(slot(utc(2026, 0, 5, 4, 59, 59, 999), 'America/New_York'), [6, 47], 'New York is still on Sunday at 04:59 UTC');
  t.same(slot(utc(2026, 0, 5, 5, 0), 'America/New_York'), [0, 0], 'and turns Monday at 05:00 UTC');
  t.same(slot(utc(2026, 0, 5, 18, 29, 59, 999), 'Asia/Kolkata'), [0, 47], '+05:30: Monday 23:59');
  t.same(slot(utc(2026, 0, 5, 18, 30), 'Asia/Kolkata'), [1, 0], '+05:30: Tuesday 00:00');
  const nepal = localSlot(utc(2026, 0, 5, 0, 20), 'Asia/Kathmandu');
  t.same(nepal, { day: 0, slot: 12, from: utc(2026, 0, 5, 0, 15), until: utc(2026, 0, 5, 0, 45) }, '+05:45: the half hours start at a quarter past in UTC');
});

t.test('DST: spring skips the missing half hours, autumn repeats the doubled ones', async (t) => {
  // New York, Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT.
  const before = localSlot(utc(2026, 2, 8, 6, 59, 59), 'America/New_York');
  t.same([before.day, before.slot, before.until], [6, 3, utc(2026, 2, 8, 7, 0)], '01:59:59 EST, slot ending at the change');
  t.same(slot(utc(2026, 2, 8, 7, 0), 'America/New_York'), [6, 6], 'the next instant is 03:00 EDT: slots 4 and 5 never come');
  // New York, Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST.
  t.same(slot(utc(2026, 10, 1, 5, 30), 'America/New_York'), [6, 3], '01:30 EDT');
  const back = localSlot(utc(2026, 10, 1, 5, 59, 59), 'America/New_York');
  t.equal(back.until, utc(2026, 10, 1, 6, 0), 'the slot ends at the change');
  t.same(slot(utc(2026, 10, 1, 6, 0), 'America/New_York'), [6, 2], '01:00 EST: slot 2 again');
  t.same(slot(utc(2026, 10, 1, 6, 30), 'America/New_York'), [6, 3], '01:30 EST: slot 3 again');
  t.same(slot(utc(2026, 10, 1, 7, 0), 'America/New_York'), [6, 4], '02:00 EST');
  // London, Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST.
  t.same(slot(utc(2026, 2, 29, 0, 59), 'Europe/London'), [6, 1], '00:59 GMT');
  t.same(slot(utc(2026, 2, 29, 1, 0), 'Europe/London'), [6, 4], '02:00 BST');
  t.same(slot(utc(2026, 6, 6, 11, 0), 'Europe/London'), [0, 24], 'summer: Monday 12:00 BST is 11:00 UTC');
});

t.test('what each half hour records', async (t) => {
  const table: Record<SlotMode, [boolean, boolean, boolean]> = { C: [true, true, true], M: [true, false, true], A: [false, true, true], E: [true, true, true], '-': [false, false, true] };
  for (const [mode, [motion, alarm, manual]] of Object.entries(table) as [SlotMode, boolean[]][]) {
    t.same([holdRecords(mode, 'motion'), holdRecords(mode, 'alarm'), holdRecords(mode, 'manual')], [motion, alarm, manual], `${mode}: motion ${motion}, alarm ${alarm}, manual ${manual}`);
  }
  t.ok(holdRecords(null, 'motion') && holdRecords(null, 'alarm'), 'no schedule (events mode): every hold records');
  const days = ['C'.repeat(48), 'M'.repeat(48), 'A'.repeat(48), 'E'.repeat(48), '-'.repeat(48), '-'.repeat(47) + 'C', 'M' + '-'.repeat(47)];
  const schedule = recordScheduleSchema.parse({ days });
  t.same([0, 1, 2, 3, 4].map((day) => slotMode(schedule, { day, slot: 20, from: 0, until: 0 })), ['C', 'M', 'A', 'E', '-']);
  t.equal(slotMode(schedule, { day: 5, slot: 47, from: 0, until: 0 }), 'C');
  t.equal(slotMode(schedule, { day: 6, slot: 0, from: 0, until: 0 }), 'M');
});

t.test('the schema refuses malformed grids', async (t) => {
  const ok = Array.from({ length: 7 }, () => 'C'.repeat(48));
  t.same(recordScheduleSchema.parse({ days: ok }), { days: ok, preSec: 5, postSec: 10 });
  t.throws(() => recordScheduleSchema.parse({ days: ok.slice(0, 6) }), /days: at least 7 items/);
  t.throws(() => recordScheduleSchema.parse({ days: [...ok.slice(1), 'C'.repeat(49)] }), /days\[6\]: must be at most 48 characters/);
  t.throws(() => recordScheduleSchema.parse({ days: [...ok.slice(1), 'C'.repeat(47) + 'x'] }), /days\[6\]: .*does not match/);
  t.throws(() => recordScheduleSchema.parse({ days: ok, preSec: 61 }), /preSec: 61 is outside 0..60/);
  t.throws(() => recordScheduleSchema.parse({ days: ok, extra: 1 }), /extra: unknown setting/);
});

t.test('the cache answers within a half hour and moves on after it', async (t) => {
  const cache = new SlotCache();
  const a = cache.at(utc(2026, 0, 5, 10, 0), 'Europe/London');
  t.equal(cache.at(utc(2026, 0, 5, 10, 29, 59, 999), 'Europe/London'), a, 'same slot, same answer');
  t.same(cache.at(utc(2026, 0, 5, 10, 30), 'Europe/London').slot, 21);
  t.same(cache.at(utc(2026, 0, 5, 10, 30), 'Asia/Kolkata').slot, 32, 'a change of zone is not answered from the cache');
  t.same(cache.at(utc(2026, 0, 5, 9, 0), 'Asia/Kolkata').slot, 29, 'nor a moment before the cached slot');
});
