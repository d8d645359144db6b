// IANA time zone names as the box's Intl knows them. The settings refuse a
// name Intl does not know; code that draws schedules in the zone still guards,
// because a config written by an older firmware, or a Node whose ICU data
// lacks a zone, can hand it one.
import type { Logger } from './log.js';

const known = new Map<string, boolean>();

/** True when `Intl.DateTimeFormat` accepts `name` as a time zone. */
export function isTimeZone(name: string): boolean {
  let ok = known.get(name);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      ok = true;
    } catch {
      ok = false;
    }
    // Bounded: the names come from settings, but a long-running box should not grow on them.
    if (known.size < 256) known.set(name, ok);
  }
  return ok;
}

/**
 * A zone to hand to Intl: `name` when it is known, otherwise UTC, with one
 * warning per unknown name (schedules are checked many times a minute).
 */
export class TimeZoneGuard {
  private warned = new Set<string>();

  constructor(private readonly log: Logger) {}

  zone(name: string): string {
    if (isTimeZone(name)) return name;
    if (!this.warned.has(name) && this.warned.size < 16) {
      this.warned.add(name);
      this.log.warn('system.timezone is not a time zone this box knows; schedules use UTC', { timezone: name });
    }
    return 'UTC';
  }
}
