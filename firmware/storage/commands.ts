/**
 * The disk tools: list, format and check the bays of the running store.
 * `diskTools()` does the work; `diskCommands()` puts it on the control
 * socket (`dvr disk ...`) and the web API calls the same tools. A disk being
 * formatted is first detached from the ring and then rejoins it; nothing
 * here formats a disk that holds this store's recordings without `force`,
 * and each face asks its own confirmation first.
 */
import { mkdir, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlCommands } from '../control/protocol.js';
import { describeBlockDevice, readSmartHealth, type BlockDevice, type SmartHealth } from '../../drivers/disk/index.js';
import type { Bays, BayProfile } from './bays.js';
import { checkDisk, type CheckReport } from './disk-check.js';
import { CATALOG_FILE, formatDisk, HEADER_FILE, LOCKS_FILE, newId, type FormatOptions } from './disk.js';
import type { DiskMonitor } from './disk-monitor.js';
import type { DiskStatus, RingStore } from './ring-store.js';

/** Why a tool refused before touching any disk; each face words it for its users. */
export type DiskRefusal = 'invalid' | 'unknown-bay' | 'no-disk' | 'needs-confirm' | 'needs-force' | 'busy';

export class DiskCommandError extends Error {
  override name = 'DiskCommandError';
  constructor(
    message: string,
    readonly code: DiskRefusal = 'invalid',
    readonly plan?: FormatPlan,
  ) {
    super(message);
  }
}

export interface DiskCommandDeps {
  store: RingStore;
  /** The board's bays; without it every disk of the store counts as a directory bay. */
  bays?: Bays;
  /** Looked at before `disk.list` answers, so a disk pulled a second ago already shows. */
  monitor?: DiskMonitor;
  /** Geometry for `disk.format` (default: 64 MiB blocks, fewer and smaller on a small disk). */
  format?: Omit<FormatOptions, 'storeId' | 'now'>;
  /** SMART reader (tests); default smartctl. */
  smart?: (device: string) => Promise<SmartHealth>;
}

export interface DiskListEntry extends DiskStatus {
  kind: 'block' | 'directory';
  capacityBytes: number | null;
  fsFreeBytes: number | null;
  model: string | null;
  serial: string | null;
  node: string | null;
  smart: { passed: boolean | null; temperatureC: number | null; powerOnHours: number | null; reallocatedSectors: number | null; pendingSectors: number | null } | null;
  smartDetail?: string;
}

export interface FormatPlan {
  bay: string;
  kind: 'block' | 'directory';
  target: string;
  /** What formatting destroys, one line each. */
  destroys: string[];
  /** The disk holds recordings of this store: `force` is needed. */
  holdsRecordings: boolean;
}

function bayOf(deps: DiskCommandDeps, name: unknown): { bay: BayProfile; status: DiskStatus } {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new DiskCommandError('bay: give a bay name (the disk list shows them)');
  const status = deps.store.disks().find((d) => d.name === name);
  const bay = deps.bays?.find(name) ?? (status ? { bay: name, path: status.path, kind: 'directory' as const } : undefined);
  if (!bay || !status) throw new DiskCommandError(`no bay "${name}" (known: ${deps.store.disks().map((d) => d.name).join(', ') || 'none'})`, 'unknown-bay');
  return { bay, status };
}

async function smartOf(deps: DiskCommandDeps, dev: BlockDevice | null): Promise<Pick<DiskListEntry, 'smart' | 'smartDetail'> & { model?: string }> {
  if (!dev) return { smart: null, smartDetail: 'not a block device' };
  try {
    const h = await (deps.smart ?? ((d: string) => readSmartHealth(d, 10_000)))(dev.node);
    return {
      smart: { passed: h.passed, temperatureC: h.temperatureC, powerOnHours: h.powerOnHours, reallocatedSectors: h.reallocatedSectors, pendingSectors: h.pendingSectors },
      ...(h.passed === null && h.messages.length ? { smartDetail: h.messages[0] } : {}),
      ...(h.model ? { model: h.model } : {}),
    };
  } catch (e) {
    return { smart: null, smartDetail: (e as Error).message };
  }
}

async function listEntry(deps: DiskCommandDeps, s: DiskStatus): Promise<DiskListEntry> {
  const bay = deps.bays?.find(s.name);
  const kind = bay?.kind ?? 'directory';
  const dev = bay?.kind === 'block' ? await describeBlockDevice(bay.path).catch(() => null) : null;
  let fsFree: number | null = null;
  let fsSize: number | null = null;
  try {
    const f = await statfs(s.path);
    fsFree = f.bavail * f.bsize;
    fsSize = f.blocks * f.bsize;
  } catch {
    // Missing disk: no file system to ask.
  }
  const { model, ...sm } = await smartOf(deps, dev);
  // The store sees no directory on an unmounted bay; the bay says why (empty, another file system).
  let bayState: Partial<DiskStatus> = {};
  if (bay?.kind === 'block' && dev && s.state === 'missing') {
    const r = await deps.bays!.prepare(bay.bay, false).catch(() => undefined);
    if (r && (r.state === 'unformatted' || r.state === 'foreign')) bayState = { state: r.state, ...(r.detail ? { detail: r.detail } : {}) };
  }
  return {
    ...s,
    ...bayState,
    kind,
    capacityBytes: dev?.sizeBytes ?? fsSize,
    fsFreeBytes: fsFree,
    model: dev?.model ?? model ?? null,
    serial: dev?.serial ?? null,
    node: dev?.node ?? null,
    ...sm,
  };
}

/** Block size for a disk of `freeBytes`: 64 MiB, halved until the disk holds at least 16 blocks (never under 1 MiB). */
export function blockSizeFor(freeBytes: number): number {
  let size = 64 * 1024 * 1024;
  while (size > 1024 * 1024 && freeBytes / size < 16) size /= 2;
  return size;
}

async function plan(deps: DiskCommandDeps, bay: BayProfile, s: DiskStatus): Promise<FormatPlan> {
  const storeId = deps.store.id();
  const holdsRecordings = s.usedBlocks > 0 && s.storeId !== undefined && s.storeId === storeId;
  const destroys: string[] = [];
  if (s.usedBlocks > 0) destroys.push(`${s.usedBlocks} blocks of recordings (${s.usedBytes} bytes)${s.lockedBlocks ? `, ${s.lockedBlocks} of them locked` : ''}`);
  if (s.state === 'foreign') destroys.push(`the recordings of another store (${s.detail ?? 'foreign'})`);
  let target = s.path;
  if (bay.kind === 'block') {
    const dev = await describeBlockDevice(bay.path).catch((e: Error) => {
      throw new DiskCommandError(`bay ${bay.bay}: ${e.message}`, 'no-disk');
    });
    target = dev.node;
    const r = await deps.bays!.prepare(bay.bay, false).catch(() => undefined);
    destroys.push(`everything on ${dev.node} (${dev.sizeBytes} bytes${dev.model ? `, ${dev.model}` : ''}${r?.content && r.content !== 'empty' ? `, holds ${r.content}` : ''})`);
  } else if (s.state !== 'unformatted' && s.state !== 'missing') {
    destroys.push(`the store files in ${s.path}`);
  }
  return { bay: bay.bay, kind: bay.kind, target, destroys, holdsRecordings };
}

/** Removes this store's files from a directory (only ours: header, catalog, locks, block files). */
async function clearStoreFiles(dir: string): Promise<void> {
  await rm(join(dir, HEADER_FILE), { force: true });
  await rm(join(dir, CATALOG_FILE), { force: true });
  await rm(join(dir, LOCKS_FILE), { force: true });
  const blocks = await readdir(join(dir, 'blocks')).catch(() => [] as string[]);
  for (const f of blocks) if (/^\d{6}\.blk$/.test(f)) await rm(join(dir, 'blocks', f), { force: true });
}

export interface FormatResult {
  bay: string;
  target: string;
  state: DiskStatus['state'] | undefined;
  blocks: number;
  blockSize: number;
  destroyed: string[];
}

/** What the control socket and the web API both call. */
export interface DiskTools {
  list(): Promise<DiskListEntry[]>;
  /** What formatting `bay` would destroy; touches nothing. */
  plan(bay: unknown): Promise<FormatPlan>;
  /** Formats `bay`; refuses (`needs-force`, with the plan) a disk holding this store's recordings unless `force`. */
  format(bay: unknown, opts: { force: boolean }): Promise<FormatResult>;
  check(bay: unknown): Promise<CheckReport>;
}

export function diskTools(deps: DiskCommandDeps): DiskTools {
  // Both faces share one set: a second format of a bay mid-format would detach a disk that is half written.
  const formatting = new Set<string>();
  return {
    async list() {
      await deps.monitor?.check();
      return Promise.all(deps.store.disks().map((s) => listEntry(deps, s)));
    },
    async plan(name) {
      const { bay, status } = bayOf(deps, name);
      return plan(deps, bay, status);
    },
    async check(name) {
      const { status } = bayOf(deps, name);
      if (status.state === 'missing') throw new DiskCommandError(`bay ${status.name}: no disk (${status.detail ?? 'missing'})`, 'no-disk');
      const id = deps.store.id();
      return checkDisk(status.path, id ? { storeId: id } : {});
    },
    async format(name, { force }) {
      const { bay, status } = bayOf(deps, name);
      if (formatting.has(bay.bay)) throw new DiskCommandError(`bay ${bay.bay} is being formatted already`, 'busy');
      formatting.add(bay.bay);
      try {
        const p = await plan(deps, bay, status);
        if (p.holdsRecordings && !force) throw new DiskCommandError(`bay ${bay.bay} holds recordings of this store (${p.destroys[0]})`, 'needs-force', p);
        return await formatBay(deps, bay, status, p);
      } finally {
        formatting.delete(bay.bay);
      }
    },
  };
}

async function formatBay(deps: DiskCommandDeps, bay: BayProfile, status: DiskStatus, p: FormatPlan): Promise<FormatResult> {
  const { store } = deps;
  // Held: the disk monitor must not bring the disk back while it is half formatted.
  await store.detachDisk(bay.bay, 'being formatted', true);
  let header;
  try {
    if (bay.kind === 'block') {
      const bays = deps.bays!;
      await bays.unmount(bay.bay);
      const dev = await bays.mkfs(bay.bay);
      await bays.mount(dev.node, bays.mountPoint(bay.bay));
    } else {
      await clearStoreFiles(status.path);
    }
    await mkdir(status.path, { recursive: true });
    const fs = await statfs(status.path);
    // A directory bay shares its file system: keep the geometry it had rather than filling it.
    const keep = bay.kind === 'directory' && status.blocks > 0 ? { blockSize: status.blockSize, blockCount: status.blocks } : {};
    header = await formatDisk(status.path, { blockSize: blockSizeFor(fs.bavail * fs.bsize), ...deps.format, ...keep, storeId: store.id() ?? newId() });
  } finally {
    await store.reattachDisk(bay.bay, true);
  }
  const state = store.disks().find((d) => d.name === bay.bay)?.state;
  return { bay: bay.bay, target: p.target, state, blocks: header.blockCount, blockSize: header.blockSize, destroyed: p.destroys };
}

/** The tools on the control socket, worded for `dvr disk` (given the deps, or tools another face shares). */
export function diskCommands(from: DiskCommandDeps | DiskTools): ControlCommands {
  const tools = 'plan' in from ? from : diskTools(from);
  return new Map<string, (args: Record<string, unknown>) => Promise<unknown>>([
    ['disk.list', () => tools.list()],
    ['disk.check', (args) => tools.check(args.bay)],
    [
      'disk.format',
      async (args) => {
        if (args.dryRun === true) return tools.plan(args.bay);
        if (args.confirm !== true) {
          const p = await tools.plan(args.bay);
          throw new DiskCommandError(`formatting bay ${p.bay} destroys ${p.destroys.join('; ') || 'nothing'}: confirm it (--yes)`, 'needs-confirm', p);
        }
        try {
          return await tools.format(args.bay, { force: args.force === true });
        } catch (e) {
          if (e instanceof DiskCommandError && e.code === 'needs-force') throw new DiskCommandError(`${e.message}: add --force to erase them`, e.code, e.plan);
          throw e;
        }
      },
    ],
  ]);
}
