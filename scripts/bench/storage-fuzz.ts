/**
 * Long fuzz run of the store's on-disk record parsers.
 * Usage: node dist/scripts/bench/storage-fuzz.js [runs per property, default 100000] [seed]
 */
import { machine } from './storage-bench-disk.js';
import { runAll } from './storage-fuzz-props.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) : Date.now() | 0;
console.log(`storage-fuzz on ${machine()}: ${runs} cases per property, seed ${seed}`);
let total = 0;
runAll(runs, seed, (r) => {
  total += r.runs;
  console.log(`  ${r.name}: ${r.runs} ok in ${(r.ms / 1000).toFixed(1)} s`);
});
console.log(`storage-fuzz: ${total} cases, no failure`);
