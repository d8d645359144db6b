// Runs scripts on the virtual board (scripts/vboard/run.sh) from Node: the
// helper hardware-facing tests use to prove drivers against the real kernel
// drivers of the QEMU guest (see scripts/vboard/README.md).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VboardOptions {
  /** Arguments for the script. */
  args?: string[];
  /** Environment variables set for the script inside the guest. */
  env?: Record<string, string>;
  /** The guest powers off after this long (the result's code is then 124). Default 600 s. */
  timeoutMs?: number;
  /** Unix socket of the RS-485 bus (the guest's /dev/ttyS1); default var/vboard/rs485.sock. */
  rs485Socket?: string;
  /** Host port forwarded to the guest's 8080; default a free port. */
  httpPort?: number;
  /** Directory holding disk0.img and disk1.img (kept between runs); default fresh images. */
  disksDir?: string;
  /** Extra kernel command line words (e.g. 'dvr.trace=1'). */
  append?: string;
  /** Keep the run directory under var/vboard/runs/ (console log). */
  keep?: boolean;
  /** Called with each chunk of run.sh's stderr (boot messages, the script's stderr). */
  onStderr?: (chunk: string) => void;
}

export interface VboardResult {
  /** The script's exit code; 124 on timeout, 125 if the guest never ran it. */
  code: number;
  /** The script's standard output. */
  stdout: string;
  /** The script's standard error, then run.sh's own messages. */
  stderr: string;
}

/** The project root: the nearest directory above this module holding scripts/vboard/run.sh. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'vboard', 'run.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('vboard: scripts/vboard/run.sh not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * Why the virtual board cannot run here, or null when it can: DVR_SKIP_VBOARD=1,
 * or no qemu-system-x86_64 (scripts/install-deps.sh test installs it).
 */
export function vboardUnavailable(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.DVR_SKIP_VBOARD === '1') return 'DVR_SKIP_VBOARD=1';
  for (const tool of ['qemu-system-x86_64', 'busybox', 'kmod', 'dpkg-deb', 'apt-get']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not installed (scripts/install-deps.sh test installs it)`;
  }
  return null;
}

/** Builds what the virtual board needs (cached under var/vboard/; minutes the first time). */
export function buildVboard(onOutput?: (chunk: string) => void): Promise<void> {
  const root = projectRoot();
  return new Promise((res, rej) => {
    const child = spawn('bash', [join(root, 'scripts', 'vboard', 'build.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (b: Buffer) => {
      const s = b.toString();
      out += s;
      onOutput?.(s);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res() : rej(new Error(`vboard build failed (exit ${code}):\n${out.slice(-4000)}`))));
  });
}

/**
 * Boots the virtual board, runs `script` in it and resolves with its exit code
 * and output. `script` is the path of a script file, or else the text of a
 * shell script. It runs as root in the guest, in the host's root file system
 * (read-only, with a writable tmpfs overlay) with the project at its host path
 * as the working directory, so node, koffi, ffmpeg and v4l2-ctl are the host's.
 */
export async function runInVboard(script: string, opts: VboardOptions = {}): Promise<VboardResult> {
  const root = projectRoot();
  let file = resolve(root, script);
  let tmp: string | undefined;
  if (!existsSync(file)) {
    mkdirSync(join(root, 'var', 'vboard'), { recursive: true });
    tmp = mkdtempSync(join(root, 'var', 'vboard', 'script-'));
    file = join(tmp, 'script.sh');
    writeFileSync(file, script);
  }
  const args: string[] = [];
  if (opts.httpPort !== undefined) args.push('--port', String(opts.httpPort));
  if (opts.rs485Socket !== undefined) args.push('--rs485', resolve(root, opts.rs485Socket));
  if (opts.disksDir !== undefined) args.push('--disks', resolve(root, opts.disksDir));
  if (opts.timeoutMs !== undefined) args.push('--timeout', String(Math.max(1, Math.ceil(opts.timeoutMs / 1000))));
  if (opts.keep) args.push('--keep');
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('--env', `${k}=${v}`);
  args.push('--', file, ...(opts.args ?? []));
  const env = { ...process.env };
  if (opts.append !== undefined) env.VBOARD_APPEND = opts.append;
  try {
    return await new Promise<VboardResult>((res, rej) => {
      const child = spawn('bash', [join(root, 'scripts', 'vboard', 'run.sh'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => {
        const s = b.toString();
        stderr += s;
        opts.onStderr?.(s);
      });
      child.on('error', rej);
      child.on('close', (code, signal) => res({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
