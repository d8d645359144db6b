import { execFile } from 'node:child_process';

/** Runs a program with an argument array (never a shell); injectable for tests. Resolves with its stdout. */
export type Run = (file: string, args: string[], timeoutMs: number) => Promise<string>;

/** `Run` with execFile: a non-zero exit, a signal or the timeout rejects with the command and its stderr (400 characters at most). */
export const runFile: Run = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${(stderr || err.message).trim().slice(0, 400)}`));
      else resolve(stdout);
    });
  });
