import { open, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { redact } from '../core/log.js';

export const AUDIT_ACTIONS = [
  'login',
  'login-failed',
  'logout',
  'setup',
  'setting-changed',
  'user-added',
  'user-changed',
  'user-removed',
  'password-changed',
  'export',
  'deletion',
  'lock',
  'unlock',
  'disk-formatted',
  'factory-reset',
  'restart',
  'config-restored',
  'token-created',
  'token-revoked',
  'firmware-upgrade',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  t: string;
  action: AuditAction;
  user: string | null;
  from: string | null;
  detail?: Record<string, unknown>;
}

/**
 * Who did what, when, from where: an append-only JSON-lines file that the
 * page shows and exports. Each record is fsynced before the action is
 * confirmed to the user. The file rotates once (audit.log → audit.1.log) at
 * maxBytes, so the record of the last months survives without filling the
 * data partition. Details pass through the same redaction as logs.
 */
export class AuditLog {
  private fh?: FileHandle;
  private size = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  get file(): string {
    return join(this.dir, 'audit.log');
  }

  async open(): Promise<void> {
    this.fh = await open(this.file, 'a', 0o600);
    this.size = (await stat(this.file)).size;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.fh?.close();
    this.fh = undefined;
  }

  record(action: AuditAction, user: string | null, from: string | null, detail?: Record<string, unknown>): Promise<void> {
    const r: AuditRecord = { t: new Date(this.clock.now()).toISOString(), action, user, from, ...(detail ? { detail: redact(detail) as Record<string, unknown> } : {}) };
    const line = JSON.stringify(r) + '\n';
    const run = this.queue.then(async () => {
      if (!this.fh) throw new Error('audit log not open');
      if (this.size + line.length > this.maxBytes) await this.rotate();
      await this.fh.write(line);
      await this.fh.datasync();
      this.size += Buffer.byteLength(line);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Newest last. A torn last line (power cut mid-append) is skipped, not fatal. */
  async tail(n = 200): Promise<AuditRecord[]> {
    await this.queue;
    const read = async (f: string) => (await readFile(f, 'utf8').catch(() => '')).split('\n');
    const lines = [...(await read(join(this.dir, 'audit.1.log'))), ...(await read(this.file))];
    const out: AuditRecord[] = [];
    for (const l of lines) {
      if (!l) continue;
      try {
        out.push(JSON.parse(l) as AuditRecord);
      } catch {
        // torn write: skip
      }
    }
    return out.slice(-n);
  }

  private async rotate(): Promise<void> {
    await this.fh!.close();
    await rename(this.file, join(this.dir, 'audit.1.log'));
    this.fh = await open(this.file, 'a', 0o600);
    this.size = 0;
  }
}
