/**
 * Times as people type them on the command line, to µs since the epoch:
 * `now`, relative (`-10m`, `-2h`, `-1d12h`, `+30s`), ISO 8601 with an offset
 * (`2026-01-02T03:04:05Z`, `…+01:00`) or local (`2026-01-02T03:04`,
 * `2026-01-02 03:04:05.250`, `2026-01-02` = local midnight).
 *
 * Strict on purpose: `Date.parse` accepts "2026-02-31" and many vendor
 * formats, and a silently shifted export range is worse than an error.
 * Parsed where the user is (the CLI), so "local" is the caller's time zone.
 */

export class TimeFormatError extends Error {
  override readonly name = 'TimeFormatError';
}

/** Earliest and latest time accepted: outside this a typo is far likelier than a recording. */
export const MIN_TIME_US = Date.UTC(2000, 0, 1) * 1000;
export const MAX_TIME_US = Date.UTC(2100, 0, 1) * 1000;

const UNIT_US: Record<string, number> = { s: 1e6, m: 60e6, h: 3600e6, d: 86_400e6 };
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const HELP = 'use an ISO 8601 time (2026-01-02T03:04:05, with Z or +01:00 for an offset, else local time), "now", or a relative time such as -10m, -2h, -1d';

/** Parses one time; `nowUs` is the reference for `now` and relative times. */
export function parseTime(text: string, nowUs: number): number {
  // U+2212 (the typographic minus) counts as "-": the CLI shields relative times with it.
  const s = text.trim().replace(/^\u2212/, '-');
  if (s.length === 0 || s.length > 40) throw new TimeFormatError(`"${text.slice(0, 40)}" is not a time: ${HELP}`);
  let us: number;
  if (s === 'now') us = nowUs;
  else if (s[0] === '-' || s[0] === '+') us = nowUs + parseRelative(s);
  else us = parseIso(s);
  if (!Number.isSafeInteger(us) || us < MIN_TIME_US || us >= MAX_TIME_US) {
    throw new TimeFormatError(`"${s}" is outside the years 2000 to 2099`);
  }
  return us;
}

function parseRelative(s: string): number {
  const sign = s[0] === '-' ? -1 : 1;
  const body = s.slice(1);
  const re = /(\d{1,6})([smhd])/gy;
  let total = 0;
  let at = 0;
  let lastUnit = Infinity;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const unit = UNIT_US[m[2]!]!;
    // Largest unit first, each at most once ("1h30m", not "30m1h" or "1h1h"): anything else is likely a typo.
    if (unit >= lastUnit) throw new TimeFormatError(`"${s}": units must go from largest to smallest, each once (e.g. -1h30m)`);
    lastUnit = unit;
    total += Number(m[1]) * unit;
    at = re.lastIndex;
  }
  if (at === 0 || at !== body.length) throw new TimeFormatError(`"${s}" is not a relative time: a sign then numbers with units s, m, h, d (e.g. -10m, -1h30m)`);
  return sign * total;
}

function parseIso(s: string): number {
  const m = ISO.exec(s);
  if (!m) throw new TimeFormatError(`"${s}" is not a time: ${HELP}`);
  const [, Y, M, D, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const year = Number(Y);
  const month = Number(M);
  const day = Number(D);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  const micros = Number(frac.padEnd(6, '0'));
  if (month < 1 || month > 12) throw new TimeFormatError(`"${s}": no month ${month}`);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) throw new TimeFormatError(`"${s}": ${Y}-${M} has no day ${day}`);
  if (hour > 23 || minute > 59 || second > 59) throw new TimeFormatError(`"${s}": no such time of day ${h}:${mi}:${sec}`);
  if (zone !== undefined) {
    let offsetMin = 0;
    if (zone !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
      const oh = Number(z[2]);
      const om = Number(z[3]);
      if (oh > 14 || om > 59) throw new TimeFormatError(`"${s}": no such offset ${zone}`);
      offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
    }
    return (Date.UTC(year, month - 1, day, hour, minute, second) - offsetMin * 60_000) * 1000 + micros;
  }
  const local = new Date(year, month - 1, day, hour, minute, second);
  // A local time skipped by a daylight-saving change does not exist: Date would quietly move it.
  if (local.getFullYear() !== year || local.getMonth() !== month - 1 || local.getDate() !== day || local.getHours() !== hour || local.getMinutes() !== minute) {
    throw new TimeFormatError(`"${s}" does not exist in the local time zone (a daylight-saving change skips it): give an offset`);
  }
  return local.getTime() * 1000 + micros;
}

/** µs since the epoch → ISO 8601 in UTC with milliseconds, for messages and JSON. */
export function isoTime(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** A duration in µs as `1h02m03s` / `4.5s`, for tables. */
export function formatDuration(us: number): string {
  const totalS = us / 1e6;
  if (totalS < 60) return `${totalS.toFixed(totalS < 10 ? 2 : 1)}s`;
  const s = Math.floor(totalS);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${pad(h)}h${pad(m)}m`;
  if (h > 0) return `${h}h${pad(m)}m${pad(s % 60)}s`;
  return `${m}m${pad(s % 60)}s`;
}
