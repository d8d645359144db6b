/**
 * Installing a bundle into A/B slots:
 *
 *   <root>/slots/<version>/   the unpacked bundles (at most the current and the previous one)
 *   <root>/current            symlink to the slot the service runs (rootfs dvr.service)
 *   <root>/previous           symlink to the slot before it, for `dvr upgrade rollback`
 *
 * The upload is checked on its header (board, version, signature) before
 * any payload is kept, staged on the data partition while its SHA-256 is
 * computed, and only unpacked once size and hash match the signed
 * manifest. The new slot is unpacked beside the running one as
 * `<version>.partial`, fsynced, renamed, and only then does `current` move,
 * by renaming a new symlink over it. A crash at any point leaves `current`
 * on a complete slot; `recover()` (run at start and before each install)
 * removes what an interrupted install left.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, readlink, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Logger } from '../core/log.js';
import { fsyncDir } from '../config/durable-file.js';
import { writeFully } from '../recordings/atomic-file.js';
import { ArchiveReader } from './archive.js';
import { BundleHeaderReader, checkSignature, compareVersions, keyId, MAX_BUNDLE_BYTES, publicKeyFromBase64, type BundleHeader } from './bundle.js';
import { UpgradeError } from './errors.js';

/** A gzip bomb stops here: more than any firmware with its node_modules needs. */
const MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_FILES = 100_000;
const STAGING = 'upgrade.staging';

export interface UpgraderOptions {
  /** Where slots/, current and previous live (the board profile's upgrade.root). */
  root: string;
  /** Where the upload is staged: the data partition. */
  stagingDir: string;
  /** Trusted Ed25519 public keys, base64 SPKI DER (the board profile's upgrade.keys). */
  keys: readonly string[];
  board: string;
  runningVersion: string;
  maxBytes?: number;
  log?: Logger;
  /** Runs after the new slot is complete and before `current` moves (tests kill the process here). */
  beforeSwitch?: () => Promise<void> | void;
}

export interface Installed {
  version: string;
  previous: string | null;
  files: number;
  bytes: number;
  key: string;
}

export interface UpgradeStatus {
  /** The version of the firmware running now. */
  running: string;
  /** The slot `current` points to (what starts next), and `previous` (what rollback returns to). */
  current: string | null;
  previous: string | null;
  slots: string[];
  trustedKeys: string[];
}

export class Upgrader {
  private readonly trusted: KeyObject[];
  private busy = false;

  constructor(private readonly o: UpgraderOptions) {
    this.trusted = o.keys.map(publicKeyFromBase64);
  }

  get maxBytes(): number {
    return this.o.maxBytes ?? MAX_BUNDLE_BYTES;
  }

  private get slots(): string {
    return join(this.o.root, 'slots');
  }

  async status(): Promise<UpgradeStatus> {
    const slots = await readdir(this.slots).catch(() => [] as string[]);
    return {
      running: this.o.runningVersion,
      current: slotName(await this.link('current')),
      previous: slotName(await this.link('previous')),
      slots: slots.filter((s) => !s.endsWith('.partial')).sort(),
      trustedKeys: this.trusted.map(keyId),
    };
  }

  /** Receives a bundle, checks it whole, installs it as `current`. Throws UpgradeError (nothing installed) for a bad one. */
  async upgrade(source: AsyncIterable<Uint8Array>, opts: { allowDowngrade?: boolean } = {}): Promise<Installed> {
    if (this.busy) throw new UpgradeError('another upgrade is being installed', 409);
    this.busy = true;
    const staging = join(this.o.stagingDir, STAGING);
    try {
      await this.recover();
      const header = await this.stage(source, staging, opts.allowDowngrade === true);
      return await this.install(header, staging);
    } finally {
      await rm(staging, { force: true });
      this.busy = false;
    }
  }

  /** Points `current` back at `previous` (and `previous` at what was current). Takes effect at the next start. */
  async rollback(): Promise<{ current: string | null; previous: string | null }> {
    const [current, previous] = [await this.link('current'), await this.link('previous')];
    if (!previous) throw new UpgradeError('there is no previous version to go back to');
    if (!(await access(resolve(this.o.root, previous, 'package.json')).then(() => true, () => false))) throw new UpgradeError(`the previous slot ${previous} is missing or incomplete`);
    // current first: a crash in between leaves both on the old version, and the one rolled back from unreferenced.
    await this.setLink('current', previous);
    if (current) await this.setLink('previous', current);
    return { current: slotName(previous), previous: slotName(current) };
  }

  /** Removes what an interrupted install left: partial slots, half-made links, the staging file, unreferenced slots. */
  async recover(): Promise<string[]> {
    const removed: string[] = [];
    const remove = async (path: string) => {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    };
    for (const name of ['current.new', 'previous.new']) if ((await this.link(name)) !== null) await remove(join(this.o.root, name));
    if (await access(join(this.o.stagingDir, STAGING)).then(() => true, () => false)) await remove(join(this.o.stagingDir, STAGING));
    const current = slotName(await this.link('current'));
    const keep = new Set([current, slotName(await this.link('previous'))]);
    for (const s of await readdir(this.slots).catch(() => [] as string[])) {
      // Without a current slot nothing is known to be in use: only partial ones go.
      if (s.endsWith('.partial') || (current && !keep.has(s))) await remove(join(this.slots, s));
    }
    if (removed.length) this.o.log?.warn('removed what an interrupted upgrade left', { removed });
    return removed;
  }

  /** The header is judged as soon as it is in; then only the payload is kept, hashed on the way. */
  private async stage(source: AsyncIterable<Uint8Array>, file: string, allowDowngrade: boolean): Promise<BundleHeader> {
    await mkdir(this.o.stagingDir, { recursive: true, mode: 0o700 });
    const reader = new BundleHeaderReader();
    const hash = createHash('sha256');
    let header: BundleHeader | undefined;
    let total = 0;
    let payload = 0;
    const fh = await open(file, 'w', 0o600);
    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (total > this.maxBytes) throw new UpgradeError(`the upload is over the ${sizeText(this.maxBytes)} a bundle may be`, 413);
        let bytes: Uint8Array = chunk;
        if (!header) {
          const r = reader.push(chunk);
          if (!r) continue;
          header = r.header;
          this.judge(header, allowDowngrade);
          bytes = r.rest;
        }
        payload += bytes.length;
        if (payload > header.manifest.payload.size) throw new UpgradeError('the bundle is longer than its manifest says');
        hash.update(bytes);
        await writeFully(fh, bytes);
      }
      if (!header) throw new UpgradeError(total ? 'the bundle is truncated in its header' : 'the upload is empty');
      const want = header.manifest.payload;
      if (payload < want.size) throw new UpgradeError(`the bundle is truncated: ${payload} of ${want.size} payload bytes`);
      if (hash.digest('hex') !== want.sha256) throw new UpgradeError('the payload does not match its signed hash: the bundle was altered');
      await fh.datasync();
      return header;
    } finally {
      await fh.close();
    }
  }

  private judge(h: BundleHeader, allowDowngrade: boolean): void {
    const m = h.manifest;
    if (!m.boards.includes(this.o.board)) throw new UpgradeError(`the bundle is for ${m.boards.join(', ')}, not for this board (${this.o.board})`);
    checkSignature(h, this.trusted);
    const order = compareVersions(m.version, this.o.runningVersion);
    if ((order === null || order <= 0) && !allowDowngrade) throw new UpgradeError(`version ${m.version} is not newer than the running ${this.o.runningVersion} (allow a downgrade to install it anyway)`);
  }

  private async install(h: BundleHeader, staging: string): Promise<Installed> {
    const version = h.manifest.version;
    const current = await this.link('current');
    if (slotName(current) === version) throw new UpgradeError(`version ${version} is already the installed one`);
    const slot = join(this.slots, version);
    const partial = `${slot}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o755 });
    let unpacked: { files: number; bytes: number };
    try {
      unpacked = await unpack(staging, partial);
      const pkg = await readFile(join(partial, 'package.json'), 'utf8').catch(() => null);
      if (pkg === null) throw new UpgradeError('the bundle holds no package.json: it is not a firmware');
      const said = (JSON.parse(pkg) as { version?: unknown }).version;
      if (said !== version) throw new UpgradeError(`the bundle's package.json says version ${String(said)}, its manifest ${version}`);
      await rm(slot, { recursive: true, force: true });
      await rename(partial, slot);
      await fsyncDir(this.slots);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      if (e instanceof SyntaxError) throw new UpgradeError("the bundle's package.json is not valid JSON");
      throw e;
    }
    await this.o.beforeSwitch?.();
    if (current) await this.setLink('previous', current);
    await this.setLink('current', `slots/${version}`);
    await this.recover();
    this.o.log?.warn('firmware upgrade installed', { version, previous: slotName(current), key: h.keyId });
    return { version, previous: slotName(current), ...unpacked, key: h.keyId };
  }

  private async link(name: string): Promise<string | null> {
    return readlink(join(this.o.root, name)).catch(() => null);
  }

  /** A new symlink renamed over the old one: readers see the old target or the new, never none. */
  private async setLink(name: string, target: string): Promise<void> {
    const tmp = join(this.o.root, `${name}.new`);
    await rm(tmp, { force: true });
    await symlink(target, tmp);
    await rename(tmp, join(this.o.root, name));
    await fsyncDir(this.o.root);
  }
}

function sizeText(n: number): string {
  return n >= 1 << 20 ? `${Math.floor(n / (1 << 20))} MiB` : `${n} bytes`;
}

function slotName(target: string | null): string | null {
  return target === null ? null : (target.split('/').filter(Boolean).pop() ?? null);
}

/** Unpacks the staged payload into dir: every file written, fsynced, and its folders fsynced. */
async function unpack(staging: string, dir: string): Promise<{ files: number; bytes: number }> {
  const reader = new ArchiveReader({ maxFiles: MAX_FILES, maxBytes: MAX_UNPACKED_BYTES });
  const dirs = new Set<string>([dir]);
  let fh: FileHandle | undefined;
  let mode = 0;
  let files = 0;
  let bytes = 0;
  const file = createReadStream(staging);
  const gunzip = file.pipe(createGunzip());
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      for (const ev of reader.push(chunk)) {
        if (ev.kind === 'file') {
          const target = join(dir, ev.path);
          for (let d = dirname(target); d.length > dir.length; d = dirname(d)) dirs.add(d);
          await mkdir(dirname(target), { recursive: true, mode: 0o755 });
          mode = ev.mode & 0o755;
          fh = await open(target, 'wx', mode);
          files++;
        } else if (ev.kind === 'data') {
          await writeFully(fh!, ev.bytes);
          bytes += ev.bytes.length;
        } else if (ev.kind === 'file-end') {
          await fh!.chmod(mode);
          await fh!.datasync();
          await fh!.close();
          fh = undefined;
        }
      }
    }
    reader.end();
  } catch (e) {
    await fh?.close();
    file.destroy();
    gunzip.destroy();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') throw new UpgradeError('the payload is not valid gzip');
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw new UpgradeError('the archive holds a path twice, or a file where a folder is');
    throw e;
  }
  for (const d of dirs) await fsyncDir(d);
  return { files, bytes };
}

