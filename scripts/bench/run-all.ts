/**
 * `make bench`: runs every benchmark script in this folder (compiled to
 * dist/scripts/bench/), one after another so they do not disturb each other,
 * and says which failed. Each script prints its own figures.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  // *-harness and *-props files are libraries the benchmarks and tests share, not benchmarks.
  .filter((f) => f.endsWith('.js') && f !== basename(fileURLToPath(import.meta.url)) && !/-(harness|props)\.js$/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const failed: string[] = [];
for (const f of scripts) {
  process.stdout.write(`\n=== ${f.replace(/\.js$/, '')} ===\n`);
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
process.stdout.write(`\nbenchmarks: ${scripts.length - failed.length} ran, ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}\n`);
process.exitCode = failed.length ? 1 : 0;
