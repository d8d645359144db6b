import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { LanSettings, NtpSettings } from '../../config/network.js';
import { writeDurably } from '../../config/durable-file.js';
import type { EventBus } from '../../core/bus.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { runFile, type Run } from '../../core/run.js';
import type { Service } from '../../core/service.js';
import { NETWORKD_FILE, TIMESYNCD_FILE, renderNetworkFiles } from './render.js';

/**
 * Makes the OS follow `network.lan` and `network.ntp`: at start and at each
 * change of those settings it renders systemd-networkd's and
 * systemd-timesyncd's files, writes the ones whose text changed (durably,
 * readable by the daemons' own users whatever the firmware's umask), then
 * tells the daemons, with the fewest commands that apply the change:
 *
 * - `networkctl reload` when the .network file changed: per networkctl(1)
 *   of systemd 252 (Debian 12) it reconfigures the interfaces whose
 *   .network file is new, modified or removed, so `networkctl reconfigure`
 *   would only do it a second time;
 * - `systemctl try-restart systemd-timesyncd.service` when the drop-in
 *   changed and time sync is on (timesyncd reads its config only at start;
 *   try-restart leaves a stopped service stopped);
 * - `timedatectl set-ntp true|false` at start (the OS state is unknown then;
 *   timedated does nothing for a unit already in that state) and when
 *   `network.ntp.enabled` changes.
 *
 * On a board whose profile does not manage the network (`network.manage:
 * none`, or no LAN interface) the files go under `<dataDir>/network/` for
 * inspection and nothing runs. A command that fails is logged with its stderr
 * and reported in status(); it is tried again at the next change.
 */

export const NETWORKCTL = '/usr/bin/networkctl';
export const SYSTEMCTL = '/usr/bin/systemctl';
export const TIMEDATECTL = '/usr/bin/timedatectl';
/** The interface the inspection copy names on a board without one: no interface is called that. */
export const NO_INTERFACE = 'dvr-no-lan';

export interface NetworkBoard {
  /** The board profile's `network.lanInterface`; null: the OS network is not managed. */
  lanInterface: string | null;
  /** Where `10-dvr-lan.network` goes (the profile's `network.networkdDir`). */
  networkdDir: string;
  /** Where `dvr.conf` goes (the profile's `network.timesyncdDir`). */
  timesyncdDir: string;
  /** The profile's `network.manage`: systemd writes the directories above and runs the commands; none runs nothing. */
  apply: 'systemd' | 'none';
}

export interface NetworkServiceOptions {
  log: Logger;
  /** When given, a `configChanged` of network.lan or network.ntp (or a parent) applies them again. */
  bus?: EventBus;
  settings: () => { lan: LanSettings; ntp: NtpSettings };
  board: NetworkBoard;
  /** The board's data directory: the files go to `<dataDir>/network/` when the OS network is not managed. */
  dataDir: string;
  /** Runs the commands; default execFile with the absolute paths above, never a shell. */
  run?: Run;
  clock?: Pick<Clock, 'now'>;
  /** Per command (default 20 s). */
  commandTimeoutMs?: number;
}

export interface NetworkStatus {
  /** Whether the OS network follows the settings (false: the files are for inspection only). */
  managed: boolean;
  interface: string | null;
  /** The two files, written or to be written. */
  files: string[];
  /** The last time the settings were applied; null before the first time. */
  lastApply: { at: number; ok: boolean; error?: string } | null;
}

const APPLIES = /^network(\.(lan|ntp)(\..*)?)?$/;

export class NetworkService implements Service {
  readonly name = 'network';
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private lastApply: NetworkStatus['lastApply'] = null;
  private toldUnmanaged = false;
  /** A command to repeat at the next apply even when no file changes (it failed, or was deferred). */
  private pending = { reload: false, restartTimesyncd: false };
  /** The set-ntp state the OS was last given successfully; undefined: not given since start. */
  private ntpGiven: boolean | undefined;

  constructor(private readonly o: NetworkServiceOptions) {}

  get managed(): boolean {
    return this.o.board.apply === 'systemd' && this.o.board.lanInterface !== null;
  }

  private get files(): { networkd: string; timesyncd: string } {
    if (this.managed) return { networkd: join(this.o.board.networkdDir, NETWORKD_FILE), timesyncd: join(this.o.board.timesyncdDir, TIMESYNCD_FILE) };
    const dir = join(this.o.dataDir, 'network');
    return { networkd: join(dir, NETWORKD_FILE), timesyncd: join(dir, 'timesyncd.conf.d', TIMESYNCD_FILE) };
  }

  async start(): Promise<void> {
    this.unsubscribe?.();
    this.running = true;
    this.ntpGiven = undefined;
    if (!this.managed && !this.toldUnmanaged) {
      this.toldUnmanaged = true;
      const why = this.o.board.lanInterface === null ? 'the board profile names no LAN interface' : 'the board profile has network.manage none';
      this.o.log.info(`the OS network is not managed on this board (${why}): its files are written for inspection only`, { dir: join(this.o.dataDir, 'network') });
    }
    this.unsubscribe = this.o.bus?.on('configChanged', (e) => {
      if (e.paths.some((p) => p === '' || APPLIES.test(p))) this.apply().catch(() => {}); // applyNow reports its own failures
    });
    await this.apply();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.idle();
  }

  status(): NetworkStatus {
    const f = this.files;
    return {
      managed: this.managed,
      interface: this.o.board.lanInterface,
      files: [f.networkd, f.timesyncd],
      lastApply: this.lastApply && { ...this.lastApply },
    };
  }

  /** Applies the settings after any apply in progress; changes arriving meanwhile share one more apply. */
  apply(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.chain.then(async () => {
      this.queued = undefined;
      if (this.running) await this.applyNow();
    });
    this.queued = next;
    this.chain = next.catch(() => {});
    return next;
  }

  /** Resolves when no apply is running or queued. */
  async idle(): Promise<void> {
    for (let c = this.chain; ; c = this.chain) {
      await c;
      if (c === this.chain) return;
    }
  }

  private async applyNow(): Promise<void> {
    const at = (this.o.clock ?? systemClock).now();
    const errors: string[] = [];
    const attempt = async <T>(what: string, fields: Record<string, unknown>, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        errors.push(error);
        this.o.log.error(what, { ...fields, error });
        return undefined;
      }
    };
    const files = await attempt('network settings not rendered: nothing written', {}, async () => {
      const { lan, ntp } = this.o.settings();
      return { ntp, text: renderNetworkFiles(lan, ntp, this.o.board.lanInterface ?? NO_INTERFACE) };
    });
    if (files) {
      const { ntp, text } = files;
      const f = this.files;
      const write = (file: string, content: string) => attempt('network file not written', { file }, () => this.writeIfChanged(file, content));
      // What was written stays pending until its command succeeds, across applies.
      // lan.managed false: the address the OS has stays; our file (if an earlier setting wrote one) is left as it is.
      if (text.networkd !== null && (await write(f.networkd, text.networkd))) this.pending.reload = this.managed;
      if (await write(f.timesyncd, text.timesyncd)) this.pending.restartTimesyncd = this.managed;
      if (this.managed) {
        const run = (file: string, args: string[]) =>
          attempt('network: a command failed', { command: [file, ...args].join(' ') }, async () => {
            await (this.o.run ?? runFile)(file, args, this.o.commandTimeoutMs ?? 20_000);
            return true;
          });
        if (this.pending.reload) this.pending.reload = !(await run(NETWORKCTL, ['reload']));
        // Time sync off: the stopped service reads the file when it is enabled again (the restart waits for then, in case it still runs).
        if (this.pending.restartTimesyncd && ntp.enabled) this.pending.restartTimesyncd = !(await run(SYSTEMCTL, ['try-restart', 'systemd-timesyncd.service']));
        if (this.ntpGiven !== ntp.enabled) this.ntpGiven = (await run(TIMEDATECTL, ['set-ntp', String(ntp.enabled)])) ? ntp.enabled : undefined;
      }
    }
    this.lastApply = errors.length === 0 ? { at, ok: true } : { at, ok: false, error: errors.join('; ') };
  }

  /** Writes `text` to `file` unless it holds it already; true when it wrote. */
  private async writeIfChanged(file: string, text: string): Promise<boolean> {
    const current = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (current === text) return false;
    await this.makeDir(join(file, '..'));
    await writeDurably(file, text, 0o644, { exactMode: true });
    this.o.log.info('network file written', { file, managed: this.managed });
    return true;
  }

  /** Creates a missing directory; ones it creates get 0755 whatever the umask, since the daemons' users must open the files inside. */
  private async makeDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true, mode: 0o755 });
    if (first === undefined) return;
    const parts = relative(first, dir).split(sep).filter((p) => p !== '');
    let d = first;
    await chmod(d, 0o755);
    for (const p of parts) await chmod((d = join(d, p)), 0o755);
  }
}
