// Installs a bundle and stops just before the switch, announcing it, so the
// test can kill the process there (installer.test.ts).
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Upgrader } from '../../../firmware/upgrade/installer.js';

const { dir, pub, bundle } = JSON.parse(process.argv[2]!) as { dir: string; pub: string; bundle: string };
const up = new Upgrader({
  root: join(dir, 'root'),
  stagingDir: join(dir, 'data'),
  keys: [pub],
  board: 'sim',
  runningVersion: '1.0.0',
  beforeSwitch: () => {
    process.stdout.write('SWITCHING\n');
    return new Promise(() => {});
  },
});
await up.upgrade(createReadStream(bundle));
