/**
 * `dvr disk list [--json]`, `dvr disk format <bay> --yes [--force]` and
 * `dvr disk check <bay>`: the running firmware does the work through its
 * control socket (it owns the disks; formatting takes a disk out of the ring
 * and puts it back).
 */
import { controlRequest, NotRunningError, RemoteError } from '../control/control-client.js';
import type { CheckReport } from '../storage/disk-check.js';
import type { DiskListEntry, FormatPlan } from '../storage/commands.js';
import type { Values } from './commands.js';
import { formatBytes } from './rec.js';
import { UserError } from './user-error.js';

const USAGE = 'usage: dvr disk list [--json] | dvr disk format <bay> --yes [--force] | dvr disk check <bay> [--json]';

/** mkfs of a big disk and a check of every block take minutes. */
const LONG_MS = 3 * 3600_000;

export interface DiskDeps {
  out?: (text: string) => void;
}

async function request(socket: string, cmd: string, args: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
  try {
    return await controlRequest(socket, { cmd, args }, timeoutMs);
  } catch (e) {
    if (e instanceof NotRunningError) throw new UserError('the firmware is not running: disks are handled through it (start it with dvr start)', 3);
    if (e instanceof RemoteError) throw new UserError(e.message, 1);
    throw e;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

function smartText(d: DiskListEntry): string {
  if (!d.smart || d.smart.passed === null) return d.kind === 'block' ? 'n/a' : '-';
  return d.smart.passed ? 'PASSED' : 'FAILING';
}

/** The `dvr disk list` table: one line per bay, then the details that do not fit a column. */
export function formatDiskList(disks: DiskListEntry[]): string {
  if (disks.length === 0) return 'no disk bay on this board';
  const rows = [['BAY', 'DEVICE/PATH', 'STATE', 'CAPACITY', 'RECORDINGS', 'BLOCKS', 'LOCKED', 'SMART', 'TEMP', 'MODEL', 'SERIAL']];
  for (const d of disks) {
    rows.push([
      d.name,
      d.node ?? d.device ?? d.path,
      d.state,
      formatBytes(d.capacityBytes),
      d.blocks ? `${formatBytes(d.usedBytes)} (${Math.round((100 * d.usedBlocks) / d.blocks)}%)` : '-',
      d.blocks ? `${d.usedBlocks}/${d.blocks}` : '-',
      String(d.lockedBlocks),
      smartText(d),
      d.smart?.temperatureC != null ? `${d.smart.temperatureC}°C` : '-',
      d.model ?? '-',
      d.serial ?? '-',
    ]);
  }
  const notes = disks.filter((d) => d.detail).map((d) => `${d.name}: ${d.detail}`);
  return [table(rows), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

export function formatCheck(bay: string, r: CheckReport): string {
  const lines = [
    `bay ${bay} (${r.path}): ${r.ok ? 'OK' : `${r.problems.length + r.moreProblems} problem(s)`}`,
    `  blocks ${r.blocks}: ${r.sealed} sealed, ${r.open} open, ${r.free} free; ${r.indexRecords} index records checked`,
  ];
  for (const p of r.problems) lines.push(`  ${p}`);
  if (r.moreProblems) lines.push(`  ... and ${r.moreProblems} more`);
  return lines.join('\n');
}

export async function diskCommand(sub: string | undefined, args: string[], values: Values, socket: () => string, deps: DiskDeps = {}): Promise<number> {
  const out = deps.out ?? ((s: string) => void process.stdout.write(s));
  const bayArg = (): string => {
    if (args.length !== 1) throw new UserError(USAGE, 2);
    return args[0]!;
  };
  switch (sub) {
    case 'list': {
      if (args.length) throw new UserError(USAGE, 2);
      const disks = (await request(socket(), 'disk.list', {})) as DiskListEntry[];
      out(values.json ? `${JSON.stringify(disks, null, 2)}\n` : `${formatDiskList(disks)}\n`);
      return 0;
    }
    case 'check': {
      const bay = bayArg();
      const r = (await request(socket(), 'disk.check', { bay }, LONG_MS)) as CheckReport;
      out(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatCheck(bay, r)}\n`);
      return r.ok ? 0 : 1;
    }
    case 'format': {
      const bay = bayArg();
      const p = (await request(socket(), 'disk.format', { bay, dryRun: true })) as FormatPlan;
      out(`formatting bay ${p.bay} (${p.target}) destroys:\n${p.destroys.length ? p.destroys.map((d) => `  - ${d}\n`).join('') : '  nothing (no store or file system there)\n'}`);
      if (!values.yes) throw new UserError(`nothing done: add --yes to format bay ${p.bay}`, 2);
      if (p.holdsRecordings && !values.force) throw new UserError(`nothing done: bay ${p.bay} holds recordings of this store; add --force as well to erase them`, 2);
      const r = (await request(socket(), 'disk.format', { bay, confirm: true, force: values.force === true }, LONG_MS)) as { state: string; blocks: number; blockSize: number };
      out(`bay ${p.bay} formatted: ${r.blocks} blocks of ${formatBytes(r.blockSize)}, disk ${r.state}\n`);
      return 0;
    }
    default:
      throw new UserError(USAGE, 2);
  }
}
