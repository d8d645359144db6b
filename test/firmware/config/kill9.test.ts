import t from 'tap';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { spawnTs } from '../../helpers/ts-child.js';

const WRITER = join(import.meta.dirname, '../../fixtures/config-writer.ts');
const ROUNDS = Number(process.env.DVR_KILL9_ROUNDS ?? 25);

/** Starts the writer, kills it with SIGKILL at a random moment, returns the last write it reported done. */
function writeThenKill(dir: string, afterWritesMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(WRITER, [dir]);
    let last = 0;
    let armed = false;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) last = Math.max(last, Number(l));
      if (!armed && last > 0) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), afterWritesMs);
      }
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code}: ${err}`));
      else resolve(last);
    });
  });
}

t.test(`a config write killed with SIGKILL leaves the old or the new config, never a broken one (${ROUNDS} rounds)`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-kill9-'));
  let totalWrites = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const acknowledged = await writeThenKill(dir, Math.floor(Math.random() * 60));
    const store = new ConfigStore({ dir, log: memoryLogger() });
    const report = await store.load();
    const n = Number(/^writer-(\d+)$/.exec(store.get().system.name)?.[1]);
    if (report.source !== 'file' || !(n === acknowledged || n === acknowledged + 1) || store.get().mqtt.baseTopic !== `t${n}`) {
      t.fail(`round ${round}: loaded ${report.source} write ${n} (topic ${store.get().mqtt.baseTopic}) after ${acknowledged} acknowledged`, { problems: report.problems });
      return;
    }
    totalWrites = acknowledged;
  }
  t.pass(`every round loaded the last acknowledged write or the one in flight (${totalWrites} writes in all)`);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind after a load');
});
