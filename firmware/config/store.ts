import { mkdir, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { SchemaError } from '../core/schema.js';
import { isTimeZone } from '../core/timezone.js';
import { DurableJsonFile, JsonFileError, writeDurably } from './durable-file.js';
import { MigrationError, migrate } from './migrations.js';
import { CONFIG_VERSION, configSchema, type Config } from './schema.js';
import { deepMerge, getPath, setPath } from './paths.js';

export const CONFIG_FILE = 'config.json';
export const LAST_GOOD_FILE = 'config.last-good.json';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadReport {
  /** Where the running config came from. */
  source: 'file' | 'last-good' | 'factory';
  migratedFrom?: number;
  /** What was wrong on the way, one clear line each. */
  problems: string[];
}

export interface ConfigStoreOptions {
  dir: string;
  /** Settings the board changes from the built-in factory defaults. */
  boardDefaults?: unknown;
  log: Logger;
  bus?: EventBus;
  clock?: Clock;
  /** Inspect only: never write, migrate on disk, or move a corrupt file (the offline `dvr config get`). */
  readOnly?: boolean;
}

/**
 * The box's settings: validated, versioned, migrated, written durably, with a
 * last good copy kept beside the file so a corrupt file never means a box
 * that forgot its cameras.
 */
export class ConfigStore {
  private db?: Low<Config>;
  private lastGood?: DurableJsonFile<Config>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly clock: Clock;

  constructor(private readonly opts: ConfigStoreOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get file(): string {
    return join(this.opts.dir, CONFIG_FILE);
  }

  get lastGoodFile(): string {
    return join(this.opts.dir, LAST_GOOD_FILE);
  }

  /** The factory settings of this board. */
  factoryDefaults(): Config {
    try {
      return configSchema.parse(deepMerge({ version: CONFIG_VERSION }, this.opts.boardDefaults ?? {}));
    } catch (e) {
      throw new ConfigError(`the board's configDefaults are invalid: ${(e as Error).message}`);
    }
  }

  async load(): Promise<LoadReport> {
    if (!this.opts.readOnly) {
      await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
      await this.removeStaleTemps();
    }
    const main = new DurableJsonFile<Config>(this.file);
    this.lastGood = new DurableJsonFile<Config>(this.lastGoodFile);
    const problems: string[] = [];

    const fromMain = await this.readValid(main, problems);
    if (fromMain) {
      this.db = new Low(main, fromMain.config);
      if (this.opts.readOnly) return { source: 'file', problems };
      if (fromMain.from !== CONFIG_VERSION) {
        // Keep the old file as it was: a downgrade or a bad migration can be undone by hand.
        const backup = join(this.opts.dir, `config.v${fromMain.from}.json`);
        await writeDurably(backup, await readFile(this.file));
        await main.write(fromMain.config);
        this.opts.log.info('config migrated', { from: fromMain.from, to: CONFIG_VERSION, backup });
      }
      await this.refreshLastGood(fromMain.config);
      return { source: 'file', ...(fromMain.from !== CONFIG_VERSION ? { migratedFrom: fromMain.from } : {}), problems };
    }

    const mainExists = problems.length > 0;
    const fromLastGood = await this.readValid(this.lastGood, problems);
    if (fromLastGood && this.opts.readOnly) {
      this.db = new Low(main, fromLastGood.config);
      return { source: 'last-good', problems };
    }
    if (fromLastGood) {
      const kept = `${this.file}.corrupt-${this.stamp()}`;
      if (mainExists) await rename(this.file, kept);
      this.db = new Low(main, fromLastGood.config);
      await main.write(fromLastGood.config);
      this.opts.log.error('config file unusable; restored the last good copy', { problems, keptAs: mainExists ? kept : null });
      return { source: 'last-good', problems: [...problems, mainExists ? `the unusable file was kept as ${kept}` : ''].filter(Boolean) };
    }

    if (mainExists) {
      // Never silently fall back to factory settings over a real config: the installer decides.
      throw new ConfigError(
        `${problems.join('; ')}; no last good copy is usable. ` +
          `Fix the file, or run "dvr config reset" to restore factory settings.`,
      );
    }
    const factory = this.factoryDefaults();
    this.db = new Low(main, factory);
    if (this.opts.readOnly) return { source: 'factory', problems };
    await main.write(factory);
    await this.lastGood.write(factory);
    this.opts.log.info('no config yet: wrote factory settings', { file: this.file });
    return { source: 'factory', problems };
  }

  /** A write cut short by a crash leaves its temp file; it never held the only copy of anything. */
  private async removeStaleTemps(): Promise<void> {
    for (const f of await readdir(this.opts.dir)) {
      if (/^\.config\.(json|last-good\.json)\.\d+\.tmp$/.test(f)) await unlink(join(this.opts.dir, f)).catch(() => {});
    }
  }

  private async readValid(file: DurableJsonFile<Config>, problems: string[]): Promise<{ config: Config; from: number } | null> {
    let raw: unknown;
    try {
      raw = await file.read();
    } catch (e) {
      if (e instanceof JsonFileError) {
        problems.push(e.message);
        return null;
      }
      throw e;
    }
    if (raw === null) return null;
    try {
      const { config, from } = migrate(raw);
      this.repairStored(config, file.file, problems);
      return { config: configSchema.parse(config), from };
    } catch (e) {
      if (e instanceof SchemaError || e instanceof MigrationError) {
        problems.push(`${file.file}: ${e.message}`);
        return null;
      }
      throw e;
    }
  }

  /**
   * Values an older firmware accepted and this one refuses, where a safe
   * value exists: refusing the whole file for them would leave a box that
   * recorded yesterday unable to start, since the last good copy holds them too.
   */
  private repairStored(config: Record<string, unknown>, file: string, problems: string[]): void {
    const system = config.system;
    if (typeof system !== 'object' || system === null || !Object.hasOwn(system, 'timezone')) return;
    const zone = (system as Record<string, unknown>).timezone;
    if (typeof zone !== 'string' || isTimeZone(zone)) return;
    (system as Record<string, unknown>).timezone = 'UTC';
    problems.push(`${file}: system.timezone ${JSON.stringify(zone.slice(0, 64))} is not a time zone this box knows; using UTC`);
    this.opts.log.warn('config: unknown system.timezone replaced by UTC', { file, timezone: zone.slice(0, 64) });
  }

  private async refreshLastGood(config: Config): Promise<void> {
    let current: unknown = null;
    try {
      current = await this.lastGood!.read();
    } catch {
      // A corrupt last-good copy is simply replaced.
    }
    if (JSON.stringify(current) !== JSON.stringify(config)) await this.lastGood!.write(config);
  }

  private requireLoaded(): Low<Config> {
    if (!this.db) throw new ConfigError('config not loaded');
    return this.db;
  }

  /** A deep copy: callers cannot change the live config behind the store's back. */
  get(): Config {
    return structuredClone(this.requireLoaded().data);
  }

  getPath(path: string): unknown {
    return getPath(this.requireLoaded().data, path);
  }

  /** Sets one setting; the whole config is validated before anything is written. */
  set(path: string, value: unknown): Promise<Config> {
    return this.update((draft) => setPath(draft, path, value), [path]);
  }

  /** Replaces the whole config (a restored backup, or the web page's save). */
  replace(next: unknown): Promise<Config> {
    return this.serialised(async () => {
      const { config } = migrate(next);
      return this.commit(configSchema.parse(config), ['']);
    });
  }

  update(change: (draft: Record<string, unknown>) => void, paths: string[] = ['']): Promise<Config> {
    return this.serialised(async () => {
      const draft = structuredClone(this.requireLoaded().data) as unknown as Record<string, unknown>;
      change(draft);
      return this.commit(configSchema.parse(draft), paths);
    });
  }

  /**
   * Factory reset: the board's factory settings replace everything. Works
   * without a successful load(), since it is the way out of a config that
   * cannot be loaded; an existing file is kept aside first.
   */
  reset(): Promise<Config> {
    return this.serialised(async () => {
      const factory = this.factoryDefaults();
      if (!this.db) {
        await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
        await rename(this.file, `${this.file}.before-reset-${this.stamp()}`).catch(() => {});
        this.db = new Low(new DurableJsonFile<Config>(this.file), factory);
        this.lastGood = new DurableJsonFile<Config>(this.lastGoodFile);
      }
      return this.commit(factory, ['']);
    });
  }

  private stamp(): string {
    return new Date(this.clock.now()).toISOString().replace(/[:.]/g, '-');
  }

  private async commit(next: Config, paths: string[]): Promise<Config> {
    const db = this.requireLoaded();
    if (this.opts.readOnly) throw new ConfigError('config opened read-only');
    const previous = db.data;
    db.data = next;
    try {
      await db.write();
      await this.lastGood!.write(next);
    } catch (e) {
      db.data = previous;
      throw e;
    }
    this.opts.bus?.emit('configChanged', { paths, at: this.clock.now() });
    return structuredClone(next);
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
