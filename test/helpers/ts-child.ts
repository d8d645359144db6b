import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Spawns a .ts file under Node with only the TypeScript loader that tap uses
 * (not tap's coverage and process-info hooks, which cost ~1 s a start).
 */
export function spawnTs(file: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  return spawn(process.execPath, [...loader, '--enable-source-maps', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}
