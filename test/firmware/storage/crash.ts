/**
 * Shared by the kill -9 tests: runs the recorder fixture as a child process
 * and kills it; checks the store's invariants after reopening it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { RingStore } from '../../../firmware/storage/ring-store.js';
import { verifyFrame } from '../../fixtures/storage/frames.js';
import type { RecorderConfig } from '../../fixtures/storage/recorder.js';
import { readAll } from './helpers.js';

const fixture = fileURLToPath(new URL('../../fixtures/storage/recorder.ts', import.meta.url));
// Only the loader that runs .ts directly; tap's coverage and mock hooks only slow the child down.
const execArgv = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));

export interface RunResult {
  /** Newest time per channel the child reported durable before it died. */
  durable: Map<string, number>;
  /** Wall clock (µs) just before SIGKILL. */
  killedAtUs: number;
  /** Wall clock (µs) when the child said it was recording. */
  readyAtUs: number;
  /** Time of the child's first frame (µs). */
  firstFrameUs: number;
}

/** Starts the recorder, kills it `killAfterMs` after it reports ready. */
export function runAndKill(cfg: RecorderConfig, killAfterMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, fixture, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const durable = new Map<string, number>();
    let readyAtUs = 0;
    let firstFrameUs = 0;
    let killedAtUs = 0;
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ready ')) {
          readyAtUs = Date.now() * 1000;
          firstFrameUs = Number(line.slice(6));
          setTimeout(() => {
            killedAtUs = Date.now() * 1000;
            child.kill('SIGKILL');
          }, killAfterMs);
        } else if (line.startsWith('durable ') && killedAtUs === 0) {
          const [, ch, t] = line.split(' ');
          durable.set(ch!, Number(t));
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ durable, killedAtUs, readyAtUs, firstFrameUs });
      else reject(new Error(`recorder exited with ${code ?? signal} before it was killed: ${err.slice(-2000)}`));
    });
  });
}

export interface Check {
  frames: Map<string, { time: number }[]>;
  problems: string[];
}

/**
 * The invariants a user would check after a crash: every indexed frame is
 * readable and bit-exact, times increase, no block is both free and in use.
 */
export async function checkStore(store: RingStore, channels: string[]): Promise<Check> {
  const problems: string[] = [];
  const frames = new Map<string, { time: number }[]>();
  const blocks = store.blocks();
  for (const d of store.disks()) {
    if (d.state !== 'ok') problems.push(`disk ${d.name} is ${d.state}: ${d.detail}`);
    const free = new Set(store.freeBlocks(d.name));
    for (const b of blocks) if (b.disk === d.name && free.has(b.block)) problems.push(`block ${d.name}/${b.block} is free and referenced`);
    const used = blocks.filter((b) => b.disk === d.name).length;
    if (used + free.size !== d.blocks) problems.push(`disk ${d.name}: ${used} used + ${free.size} free != ${d.blocks} blocks`);
  }
  for (const ch of channels) {
    const got = await readAll(store, ch, 'main');
    const indexed = blocks.filter((b) => b.channel === ch && b.stream === 'main').reduce((n, b) => n + b.frames, 0);
    if (got.length !== indexed) problems.push(`${ch}: ${indexed} frames indexed, ${got.length} readable`);
    for (let i = 0; i < got.length; i++) {
      const why = verifyFrame(ch, got[i]!);
      if (why) problems.push(`${ch} frame ${i} at ${got[i]!.time}: ${why}`);
      if (i > 0 && got[i]!.time <= got[i - 1]!.time) problems.push(`${ch} frame ${i}: time does not increase`);
      if (problems.length > 20) break;
    }
    frames.set(ch, got.map((f) => ({ time: f.time })));
  }
  return { frames, problems };
}

export function noteIfSlow(t: Test, started: number, what: string): void {
  t.comment(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
