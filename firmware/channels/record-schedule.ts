// The weekly recording schedule of a channel (config `recording.schedule`):
// which half hour of the week a moment is in, in the box's time zone, and
// what that half hour records. Pure, so the gate and its tests share it.
import type { RecordSchedule } from '../config/recording.js';

/** C continuous, M motion, A alarm (any trigger but motion), E motion or alarm, - none. */
export type SlotMode = 'C' | 'M' | 'A' | 'E' | '-';
/** Why a channel is held recording: its motion, an alarm-like linkage trigger, or the manual switch. */
export type HoldKind = 'motion' | 'alarm' | 'manual';

export const SLOTS_PER_DAY = 48;
const SLOT_MS = 30 * 60_000;
const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** A local half hour: `day` 0 is Monday; [from, until) in ms since the epoch. */
export interface LocalSlot {
  day: number;
  slot: number;
  from: number;
  until: number;
}

// Building a DateTimeFormat costs far more than using one, and the gate asks per frame.
const formats = new Map<string, Intl.DateTimeFormat>();
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  return f;
}

/**
 * The half hour `ms` falls in, by the wall clock of `timeZone`. Across a DST
 * change the wall clock decides: in spring the skipped half hours never
 * come, in autumn the repeated ones come twice.
 */
export function localSlot(ms: number, timeZone: string): LocalSlot {
  const parts = formatFor(timeZone).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const hour = Number(get('hour')) % 24;
  const minute = Number(get('minute'));
  const into = ((minute % 30) * 60 + Number(get('second'))) * 1000 + (((ms % 1000) + 1000) % 1000);
  // Offsets change on half-hour boundaries in every zone in use, so the slot lasts until the next one.
  return { day: WEEKDAYS[get('weekday')] ?? 0, slot: hour * 2 + (minute >= 30 ? 1 : 0), from: ms - into, until: ms - into + SLOT_MS };
}

/** What `schedule` records in the given half hour. */
export function slotMode(schedule: RecordSchedule, s: LocalSlot): SlotMode {
  return (schedule.days[s.day]?.[s.slot] ?? '-') as SlotMode;
}

/** Whether a hold of `kind` records in a half hour of `mode` (null: no schedule, the `events` mode: every hold). */
export function holdRecords(mode: SlotMode | null, kind: HoldKind): boolean {
  if (mode === null || kind === 'manual' || mode === 'C') return true;
  if (mode === 'E') return true;
  return kind === 'motion' ? mode === 'M' : mode === 'A';
}

/** localSlot() with the last answer kept: frames come many times a second and a slot lasts 30 minutes. */
export class SlotCache {
  private last: { zone: string; slot: LocalSlot } | null = null;

  at(ms: number, timeZone: string): LocalSlot {
    const l = this.last;
    if (l && l.zone === timeZone && ms >= l.slot.from && ms < l.slot.until) return l.slot;
    const slot = localSlot(ms, timeZone);
    this.last = { zone: timeZone, slot };
    return slot;
  }
}
