import t from 'tap';
import fc from 'fast-check';
import { mediaProperties } from '../../../scripts/bench/fuzz-media.js';

// The same properties run with ≥100,000 cases in scripts/bench/fuzz-media.ts.
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 3000);

for (const { name, property } of mediaProperties) {
  t.test(name, async (t) => {
    const r = fc.check(property, { numRuns: RUNS });
    t.notOk(r.failed, r.failed ? fc.defaultReportMessage(r) : `${r.numRuns} cases`);
  });
}
