/**
 * The MQTT service alone in a process, for tests that kill it: argv[2] is
 * JSON {url, dataDir}. Reads commands on stdin:
 *   alarm <count> <firstAt>   emits <count> alarms with at = firstAt, firstAt+1, ...
 *   status                    prints STATUS <json>
 * and prints STARTED once start() resolved. Logs go to stdout as JSON lines.
 */
import { createInterface } from 'node:readline';
import { Logger } from '../../../firmware/core/log.js';
import { makeService } from './harness.js';

if (!process.argv[2]) {
  // Run by itself (a tap run over the whole folder): nothing to do.
  process.stdout.write('# the child process of process.test.ts; needs its JSON argument\n');
  process.exit(0);
}
const { url, dataDir } = JSON.parse(process.argv[2]) as { url: string; dataDir: string };
const log = new Logger('mqtt', { level: 'debug' });
const { svc, bus } = makeService(url, { deps: { log, dataDir } });
svc.registerEntity({ kind: 'alarmInput', input: 'in1' });
await svc.start();
process.stdout.write('STARTED\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === 'alarm') {
    for (let i = 0; i < Number(a); i++) bus.emit('alarm', { source: 'gpio', input: 'in1', active: i % 2 === 0, at: Number(b) + i });
    process.stdout.write(`EMITTED ${a}\n`);
  } else if (cmd === 'status') process.stdout.write(`STATUS ${JSON.stringify(svc.status())}\n`);
}
