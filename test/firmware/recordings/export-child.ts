/**
 * Run as a child process by interrupt.test.ts and killed with SIGKILL in the
 * middle of an export. argv[2] is a JSON ChildConfig. The store's cursor is
 * slowed down (a frame a chunk, a few ms each) so the kill lands mid-export;
 * the child prints "MIDWAY" once `midwayChunks` chunks of the main stream
 * were read, then goes on until killed or done ("DONE").
 */
import { EventBus } from '../../../firmware/core/bus.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { exportRecording } from '../../../firmware/recordings/export.js';
import type { CursorOptions } from '../../../firmware/storage/reader.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';

export interface ChildConfig {
  paths: string[];
  channel: string;
  fromUs: number;
  toUs: number;
  file: string;
  fragmented: boolean;
  midwayChunks: number;
}

const cfg = JSON.parse(process.argv[2]!) as ChildConfig;
const store = new RingStore({ bus: new EventBus(), log: memoryLogger('child'), disks: cfg.paths.map((path, i) => ({ name: `d${i}`, path })) });
await store.start();
const cursor = store.cursor.bind(store);
let chunks = 0;
store.cursor = (opts: CursorOptions) =>
  (async function* slow() {
    for await (const c of cursor({ ...opts, maxChunkBytes: 1 })) {
      if (opts.stream === 'main' && ++chunks === cfg.midwayChunks) process.stdout.write('MIDWAY\n');
      await new Promise((r) => setTimeout(r, 4));
      yield c;
    }
  })();
await exportRecording(store, { channel: cfg.channel, fromUs: cfg.fromUs, toUs: cfg.toUs, file: cfg.file, fragmented: cfg.fragmented });
process.stdout.write('DONE\n');
await store.stop();
