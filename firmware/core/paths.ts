import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the folder holding package.json and board/.
 * Found by walking up because this file runs both from source (tests) and
 * from dist/ (the device), at different depths.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'board'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the firmware package root (package.json beside board/)');
    dir = up;
  }
}
