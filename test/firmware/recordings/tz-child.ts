/**
 * Run by times.test.ts with TZ set in its environment (changing process.env.TZ
 * inside a test process upsets the coverage merge): parses argv[2..] as local
 * times and prints one JSON line per argument, the µs or the error message.
 */
import { parseTime } from '../../../firmware/recordings/times.js';

for (const a of process.argv.slice(2)) {
  try {
    process.stdout.write(`${JSON.stringify({ us: parseTime(a, 0) })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
  }
}
