import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnTs } from './ts-child.js';

const ROOT = join(import.meta.dirname, '../..');
export const DVR = join(ROOT, 'firmware/cli/dvr.ts');
const BUILT = join(ROOT, 'dist/firmware/cli/dvr.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    // The page's sources build separately (make page) and do not make the CLI stale.
    if (e.isDirectory()) newest = p.endsWith(join('web', 'page')) ? newest : Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let builtFresh: boolean | undefined;
/**
 * True when dist/ was built after the last change to firmware/ and drivers/
 * (`make test` builds first). Children do not report coverage either way
 * (spawnTs leaves tap's hooks out), so the compiled CLI changes nothing but
 * the start: a fraction of a second instead of the TypeScript loader's
 * 10-50 s on a loaded machine, which timed the firmware tests out.
 */
function useBuilt(): boolean {
  if (builtFresh === undefined) {
    try {
      builtFresh = statSync(BUILT).mtimeMs > Math.max(newestSource(join(ROOT, 'firmware')), newestSource(join(ROOT, 'drivers')));
    } catch {
      builtFresh = false;
    }
  }
  return builtFresh;
}

/** `dvr ...` as a child process: the compiled CLI when it is up to date, the sources otherwise. */
export function spawnDvr(args: string[], opts: SpawnOptions = {}): ChildProcess {
  if (useBuilt()) return spawn(process.execPath, ['--enable-source-maps', BUILT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  return spawnTs(DVR, args, opts);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs one `dvr` command to completion. */
export function dvr(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnDvr(args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts `dvr start` in the background; `logs` collects its JSON log lines. */
export function startFirmware(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; logs: string[]; exited: Promise<{ code: number | null; signal: string | null; at: number }> } {
  const child = spawnDvr(['start', ...args], { env: { ...process.env, ...env } });
  const logs: string[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    logs.push(...lines);
  });
  child.stderr!.on('data', (d) => logs.push(String(d)));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, logs, exited };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function health(port: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: await res.json() };
}

/** HTTPS to the box; its first-boot certificate is accepted as a user would, once. */
export function boxCall(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  return new Promise<{ status: number; json: any; cookie: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, rejectUnauthorized: false, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null, cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Logs in once the box answers again (after a restart); the session's headers. */
export async function loginWhenBack(port: number, name: string, password: string): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const back = await waitFor(
    'the firmware back',
    async () => {
      const l = await boxCall(port, 'POST', '/api/v1/login', {}, { name, password }).catch(() => null);
      return l?.status === 200 && l;
    },
    60_000,
  );
  return { cookie: back.cookie, 'x-csrf-token': back.json.csrf as string };
}
