/**
 * What the fuzz scripts in this folder share: the named-property lists the
 * unit tests import, and the command line that runs them with many cases:
 *
 *   node dist/scripts/bench/<script>.js [runs=100000] [name-filter]
 *
 * One line per property with its case count and time; on a counterexample,
 * fast-check's report (with the seed to replay it) and exit code 1.
 */
import fc from 'fast-check';
import os from 'node:os';
import { pathToFileURL } from 'node:url';

/** A property and the name the filter matches; P narrows to fc.IProperty where all are synchronous. */
export interface NamedProperty<P extends fc.IProperty<any> | fc.IAsyncProperty<any> = fc.IProperty<any> | fc.IAsyncProperty<any>> {
  name: string;
  property: P;
}

/** Runs fn; an error of `kind` is the expected outcome for bad input, anything else escapes. */
export function expectOnly(kind: abstract new (...a: never[]) => Error, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof kind)) throw e;
  }
}

/** Splits bytes at the given points (taken modulo length + 1), as a stream arriving in chunks. */
export function chunked(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** True when the module with this import.meta.url is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return !!process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/**
 * Runs the properties whose name contains the filter (argv[3]) with argv[2]
 * cases each (default 100,000), printing one line each. Returns true when all
 * passed and sets process.exitCode accordingly.
 */
export async function runFuzz(title: string, properties: readonly NamedProperty[], argv: readonly string[] = process.argv): Promise<boolean> {
  const runs = Number(argv[2] ?? 100_000);
  const filter = argv[3] ?? '';
  const cpus = os.cpus();
  console.log(`${title} on ${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, node ${process.version}, ${runs} cases per property`);
  let failed = false;
  for (const { name, property } of properties) {
    if (!name.includes(filter)) continue;
    const t0 = performance.now();
    const r = await fc.check(property, { numRuns: runs });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (r.failed) {
      failed = true;
      console.log(`FAIL ${name} after ${r.numRuns} runs (${secs} s)\n${fc.defaultReportMessage(r)}`);
    } else {
      console.log(`ok   ${name}: ${r.numRuns} cases in ${secs} s`);
    }
  }
  process.exitCode = failed ? 1 : 0;
  return !failed;
}
