// The fuzz properties of scripts/bench/fuzz-upgrade.ts with a few thousand
// cases (the script runs ≥100,000): bundle headers and archives from
// arbitrary bytes give a typed refusal or safe files, never another exception.
import fc from 'fast-check';
import t from 'tap';
import { upgradeProperties } from '../../../scripts/bench/fuzz-upgrade.js';

const runs = Number(process.env.FUZZ_RUNS ?? 3000);

for (const { name, property } of upgradeProperties) {
  t.test(name, async (t) => {
    fc.assert(property, { numRuns: runs });
    t.pass(`${runs} cases`);
  });
}
