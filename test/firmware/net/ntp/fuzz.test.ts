// The fuzz properties of scripts/bench/fuzz-ntp.ts with a few thousand cases
// (the script runs ≥100,000): any reply gives an NtpError or a reply that
// passed every check, never another exception.
import fc from 'fast-check';
import t from 'tap';
import { ntpProperties } from '../../../../scripts/bench/fuzz-ntp.js';

const runs = Number(process.env.FUZZ_RUNS ?? 3000);

for (const { name, property } of ntpProperties) {
  t.test(name, async (t) => {
    fc.assert(property, { numRuns: runs });
    t.pass(`${runs} cases`);
  });
}
