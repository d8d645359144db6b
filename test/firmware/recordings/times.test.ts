import t from 'tap';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '../../helpers/ts-child.js';
import { formatDuration, isoTime, parseTime, TimeFormatError } from '../../../firmware/recordings/times.js';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0) * 1000;
const H = 3600e6;

t.test('ISO 8601 with an offset or Z', async (t) => {
  t.equal(parseTime('2026-01-02T03:04:05Z', NOW), Date.UTC(2026, 0, 2, 3, 4, 5) * 1000);
  t.equal(parseTime('2026-01-02T03:04:05.25Z', NOW), Date.UTC(2026, 0, 2, 3, 4, 5, 250) * 1000);
  t.equal(parseTime('2026-01-02T03:04:05.123456Z', NOW), Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 123456);
  t.equal(parseTime('2026-01-02T03:04:05+01:00', NOW), Date.UTC(2026, 0, 2, 2, 4, 5) * 1000);
  t.equal(parseTime('2026-01-02T03:04-0530', NOW), Date.UTC(2026, 0, 2, 8, 34) * 1000);
  t.equal(parseTime(' 2026-01-02 03:04:05Z ', NOW), Date.UTC(2026, 0, 2, 3, 4, 5) * 1000, 'a space for T, blanks around');
});

t.test('ISO 8601 without an offset is local time', async (t) => {
  t.equal(parseTime('2026-01-02T03:04:05', NOW), new Date(2026, 0, 2, 3, 4, 5).getTime() * 1000);
  t.equal(parseTime('2026-01-02', NOW), new Date(2026, 0, 2).getTime() * 1000, 'a date alone is local midnight');
  t.equal(parseTime('2026-03-01T10:00', NOW), new Date(2026, 2, 1, 10).getTime() * 1000);
});

t.test('a local time skipped by a daylight-saving change is refused', async (t) => {
  // In a child with its own time zone: see tz-child.ts.
  const child = spawnTs(fileURLToPath(new URL('./tz-child.ts', import.meta.url)), ['2026-03-29T02:30', '2026-03-29T03:30'], { env: { ...process.env, TZ: 'Europe/Berlin' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await new Promise((r) => child.on('exit', r));
  const [skipped, after] = out.trim().split('\n').map((l) => JSON.parse(l) as { us?: number; error?: string });
  t.match(skipped!.error, /does not exist in the local time zone/);
  t.equal(after!.us, Date.UTC(2026, 2, 29, 1, 30) * 1000, 'after the change: CEST');
});

t.test('now and relative times', async (t) => {
  t.equal(parseTime('now', NOW), NOW);
  t.equal(parseTime('-10m', NOW), NOW - 10 * 60e6);
  t.equal(parseTime('-2h', NOW), NOW - 2 * H);
  t.equal(parseTime('-1d12h', NOW), NOW - 36 * H);
  t.equal(parseTime('-1h30m15s', NOW), NOW - H - 30 * 60e6 - 15e6);
  t.equal(parseTime('+30s', NOW), NOW + 30e6);
  t.equal(parseTime('\u221210m', NOW), NOW - 10 * 60e6, 'the minus sign the CLI shields relative times with');
});

t.test('strict: anything else is a clear error', async (t) => {
  const bad: [string, RegExp][] = [
    ['', /is not a time/],
    ['yesterday', /is not a time: use an ISO 8601 time/],
    ['2026-02-30', /2026-02 has no day 30/],
    ['2025-02-29T00:00Z', /has no day 29/],
    ['2026-13-01', /no month 13/],
    ['2026-00-10', /no month 0/],
    ['2026-01-02T24:00', /no such time of day/],
    ['2026-01-02T10:60', /no such time of day/],
    ['2026-01-02T10:00:61Z', /no such time of day/],
    ['2026-01-02T10:00+15:00', /no such offset/],
    ['2026-01-02T10:00+01:75', /no such offset/],
    ['2026-1-2', /is not a time/],
    ['1767225600', /is not a time/],
    ['-10', /is not a relative time/],
    ['-10x', /is not a relative time/],
    ['-m', /is not a relative time/],
    ['-30m1h', /largest to smallest/],
    ['-1h1h', /largest to smallest/],
    ['1999-12-31T23:59:59Z', /outside the years 2000 to 2099/],
    ['2100-01-01', /outside the years/],
    ['-99999d', /outside the years/],
    ['x'.repeat(100), /is not a time/],
  ];
  for (const [text, msg] of bad) t.throws(() => parseTime(text, NOW), { name: 'TimeFormatError', message: msg }, JSON.stringify(text.slice(0, 20)));
});

t.test('fuzz: any string gives a time in range or a TimeFormatError, never anything else', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 45 }), fc.stringMatching(/^[-+\u2212]?[0-9smhdTZ:.+ -]{0,30}$/)), (s) => {
      try {
        const us = parseTime(s, NOW);
        return Number.isSafeInteger(us) && us >= Date.UTC(2000, 0, 1) * 1000 && us < Date.UTC(2100, 0, 1) * 1000;
      } catch (e) {
        return e instanceof TimeFormatError;
      }
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 strings');
});

t.test('fuzz: every UTC instant written as ISO 8601 parses back to itself', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offMin) => {
      const us = ms * 1000;
      if (parseTime(isoTime(us), NOW) !== us) return false;
      // The same instant with an offset: local wall time of that zone, then the offset.
      const local = new Date(ms + offMin * 60_000).toISOString().slice(0, 23);
      const sign = offMin < 0 ? '-' : '+';
      const a = Math.abs(offMin);
      const off = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
      return parseTime(local + off, NOW) === us;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

t.test('durations for tables', async (t) => {
  t.equal(formatDuration(4_500_000), '4.50s');
  t.equal(formatDuration(42e6), '42.0s');
  t.equal(formatDuration(65e6), '1m05s');
  t.equal(formatDuration(H + 2 * 60e6 + 3e6), '1h02m03s');
  t.equal(formatDuration(26 * H + 5 * 60e6), '1d02h05m');
});
