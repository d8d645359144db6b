/**
 * 50 × kill -9 of a recorder at a random moment, reopening the store after
 * each: recovery must leave every indexed frame readable and bit-exact, keep
 * everything the recorder had seen flushed, and never leave a block both free
 * and referenced. A tiny flush interval puts many kills in the middle of a write.
 */
import t, { type Test } from 'tap';
import { memoryLogger } from '../../../firmware/core/log.js';
import { checkStore, noteIfSlow, runAndKill } from './crash.js';
import { makeDisks, storeWith } from './helpers.js';

// The loop runs long on a busy machine; the runner's per-file default would cut it off.
t.setTimeout(600_000);

const ITERATIONS = Number(process.env.STORAGE_KILL_ITERATIONS ?? 50);
const channels = ['cam0', 'cam1', 'cam2'];

// Independent lanes (each its own store on its own disks) run side by side:
// the child's start-up dominates and the machine may be busy with other tests.
const LANES = Math.min(ITERATIONS, Number(process.env.STORAGE_KILL_LANES ?? 5));

t.test(`${ITERATIONS} kill -9 at random moments, then reopen`, async (t) => {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(t, lane, Math.ceil((ITERATIONS - lane) / LANES))));
  noteIfSlow(t, started, `${ITERATIONS} iterations in ${LANES} lanes`);
  const sum = (k: keyof (typeof results)[0]): number => results.reduce((n, r) => n + (r[k] as number), 0);
  t.equal(sum('kills'), ITERATIONS, `${ITERATIONS} kills`);
  t.same(results.flatMap((r) => r.failures), [], 'after every kill: frames readable and bit-exact, durable frames kept, no block free and referenced');
  t.comment(`frames checked (sum over iterations): ${sum('frames')}; open blocks repaired: ${sum('repaired')}; iterations after the ring wrapped: ${sum('wrapped')}`);
  // A lane needs a few iterations before its 40 blocks are all used once.
  if (ITERATIONS / LANES >= 5) t.ok(sum('wrapped') > 0, 'the ring wrapped: kills also hit block reuse');
});

async function runLane(t: Test, lane: number, iterations: number): Promise<{ kills: number; frames: number; repaired: number; wrapped: number; failures: string[] }> {
  const d = makeDisks(2, 32, `killloop${lane}`);
  t.teardown(d.cleanup);
  if (lane === 0) t.comment(`disks: ${d.kind}`);
  const paths = d.disks.map((x) => x.path);
  // Format once: 20 blocks of 256 KiB per disk, so the ring wraps many times over the loop.
  const init = storeWith(paths, { format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 20, reserveBytes: 0 } });
  await init.store.start();
  await init.store.stop();
  const out = { kills: 0, frames: 0, repaired: 0, wrapped: 0, failures: [] as string[] };
  for (let i = 0; i < iterations; i++) {
    const killAfter = 50 + Math.floor(Math.random() * 350);
    const run = await runAndKill({ paths, channels: channels.length, mode: 'fast', flushIntervalMs: 15 }, killAfter);
    out.kills++;
    const log = memoryLogger('check');
    const { store } = storeWith(paths, { log });
    await store.start();
    const check = await checkStore(store, channels);
    out.repaired += log.ring.tail(1000, 'warn').filter((r) => r.msg.startsWith('repairing block')).length;
    for (const [ch, t0] of run.durable) {
      const have = check.frames.get(ch)!;
      // The newest frame reported durable is never the oldest one, so overwrite cannot explain its absence.
      if (!have.some((f) => f.time === t0)) check.problems.push(`${ch}: frame ${t0}, reported durable, is missing after recovery`);
    }
    const bad = log.ring.tail(1000, 'warn').filter((r) => /unreadable|does not match|damaged/.test(r.msg));
    for (const r of bad) check.problems.push(`reader: ${r.msg}`);
    out.frames += [...check.frames.values()].reduce((n, f) => n + f.length, 0);
    if (store.blocks().some((b) => b.generation > 1)) out.wrapped++;
    await store.stop();
    if (check.problems.length) {
      out.failures.push(`lane ${lane} iteration ${i} (killed after ${killAfter} ms): ${check.problems.slice(0, 10).join('; ')}`);
      break;
    }
  }
  return out;
}
