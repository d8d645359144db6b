import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SharedLines } from '../drivers/serial/index.js';
import { loadBoardProfile, type BoardProfile } from './board/profile.js';
import { EventBus } from './core/bus.js';
import { systemClock, type Clock } from './core/clock.js';
import { Logger, LogRing, type LogLevel } from './core/log.js';
import { packageRoot } from './core/paths.js';
import { Supervisor } from './core/supervisor.js';
import { ConfigStore, type LoadReport } from './config/store.js';
import { ControlService, isLive } from './control/control-service.js';
import { CONTROL_SOCKET, type CommandRequest, type ControlCommands, type ControlRequest } from './control/protocol.js';
import { NetworkService } from './system/network/network-service.js';
import { SystemdService } from './system/systemd-service.js';
import { WatchdogService } from './system/watchdog-service.js';
import { MqttService } from './mqtt/service.js';
import { WebService } from './web/web-service.js';
import type { RestartKind } from './web/api/maintenance-routes.js';
import type { RingStore } from './storage/ring-store.js';
import type { DiskTools } from './storage/commands.js';
import type { RecordGate } from './channels/record-gate.js';
import type { SnapshotStore } from './snapshots/store.js';
import type { LiveSnapshots } from './snapshots/live.js';
import type { NvrService } from './channels/nvr-service.js';
import type { DvrService } from './channels/dvr-service.js';
import type { AlarmService } from './alarms/service.js';
import { boxTargets } from './linkage/box-targets.js';
import { LinkageService } from './linkage/engine.js';
import type { PtzDirectory } from './ptz/settings.js';
import type { Wiring } from './wiring/context.js';
import { rs485GapMs, wireAlarms } from './wiring/alarms.js';
import { restreamCredentials, wireRestream } from './wiring/live.js';
import { wireOnvif, wirePtz } from './wiring/ptz.js';
import { wireSnapshots } from './wiring/snapshots.js';
import { EventJournal } from './events/journal.js';
import { combineLiveChannels, type LiveChannels } from './restream/restream-service.js';
import { wireRecording } from './wiring/recording.js';
import { Upgrader } from './upgrade/installer.js';
import { wireMqttEntities } from './wiring/mqtt-entities.js';

export interface FirmwareOptions {
  board: string;
  /** Where a board's relative paths point (the sim board's disks, ptys, data). */
  varDir: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Total time shutdown may take before services are abandoned. */
  stopBoundMs?: number;
  logLevel?: LogLevel;
  /** Runs a firmware restart asked for from the page (runFirmware: a new Firmware in this process). */
  onRestart?: () => void;
}

export class FirmwareError extends Error {
  override name = 'FirmwareError';
}

export async function firmwareVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The composition root: loads the board and the config, wires the services
 * and hands them to the Supervisor. Nothing here talks to hardware itself.
 */
export class Firmware {
  readonly clock: Clock;
  readonly ring = new LogRing(2000);
  readonly log: Logger;
  readonly bus: EventBus;
  board!: BoardProfile;
  config!: ConfigStore;
  configReport!: LoadReport;
  readonly supervisor: Supervisor;
  mqtt?: MqttService;
  store?: RingStore;
  /** The bays' list, format and check, shared by `dvr disk` and the web page. */
  disks?: DiskTools;
  gate?: RecordGate;
  snapshots?: SnapshotStore;
  /** Channels' pictures for viewing (the page's fallback for streams a browser cannot play), not stored. */
  liveSnapshots?: LiveSnapshots;
  events?: EventJournal;
  /** Every channel's live frames: the RTSP restream and the page's live view. */
  live?: LiveChannels;
  nvr?: NvrService;
  dvr?: DvrService;
  alarms?: AlarmService;
  ptz?: PtzDirectory;
  /** Firmware upgrades into A/B slots, where the board profile has an upgrade section. */
  upgrader?: Upgrader;
  /** The box's LAN address, DNS and NTP as the OS applies them (systemd-networkd, timesyncd). */
  network?: NetworkService;
  private readonly startedAt: number;
  private version = '0.0.0';
  /** Opened on first use, after the config is loaded; real timers, like each bus's own waits. */
  private readonly rs485Lines: SharedLines;

  constructor(private readonly opts: FirmwareOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = new Logger('dvr', { ring: this.ring, level: opts.logLevel ?? 'info', now: () => this.clock.now() });
    this.bus = new EventBus((name, err) => this.log.error('event listener threw', { event: name, error: String(err) }));
    this.supervisor = new Supervisor({ bus: this.bus, log: this.log.child('supervisor'), clock: this.clock });
    this.startedAt = this.clock.now();
    this.rs485Lines = new SharedLines({ log: this.log.child('rs485'), gapMs: (line) => rs485GapMs(this.config.get().alarms.modules, line) });
  }

  get socketPath(): string {
    return join(this.board.paths.run, CONTROL_SOCKET);
  }

  async start(): Promise<void> {
    this.version = await firmwareVersion();
    this.board = loadBoardProfile(this.opts.board, this.opts.varDir);
    if (await isLive(this.socketPath)) {
      throw new FirmwareError(`another firmware is already running with ${this.socketPath}`);
    }
    await mkdir(this.board.paths.data, { recursive: true, mode: 0o700 });
    await mkdir(this.board.paths.run, { recursive: true, mode: 0o700 });
    this.config = new ConfigStore({
      dir: join(this.board.paths.data, 'config'),
      boardDefaults: this.board.configDefaults,
      log: this.log.child('config'),
      bus: this.bus,
      clock: this.clock,
    });
    this.configReport = await this.config.load();
    if (this.board.upgrade) {
      const { root, keys } = this.board.upgrade;
      this.upgrader = new Upgrader({ root, keys, stagingDir: join(this.board.paths.data, 'upgrade'), board: this.board.name, runningVersion: this.version, log: this.log.child('upgrade') });
      // An install cut short (power, kill) left a partial slot or a staged upload: the running slot is whole, the rest goes.
      await this.upgrader.recover().catch((e: unknown) => this.log.error('upgrade clean-up failed', { error: e instanceof Error ? e.message : String(e) }));
    }
    this.log.info('firmware starting', { version: this.version, board: this.board.name, config: this.configReport.source });

    const env = this.opts.env ?? process.env;
    const { credentials, hooks } = restreamCredentials(this.wiring());
    await credentials.load();
    this.supervisor.add(new ControlService(this.socketPath, (req) => this.control(req), this.log.child('control')));
    const web = new WebService({
      log: this.log.child('web'),
      clock: this.clock,
      config: this.config,
      dataDir: this.board.paths.data,
      listen: () => {
        const n = this.config.get().network;
        return { host: n.bindAddress, httpPort: n.httpPort, httpsPort: n.httpsPort };
      },
      status: () => this.supervisor.status(),
      passwords: hooks,
      live: () => this.live,
      snapshots: () => this.liveSnapshots,
      store: () => this.store,
      disks: () => this.disks,
      ptz: () => this.ptz,
      events: () => this.events,
      popups: (listener) => this.bus.on('consolePopup', listener),
      version: this.version,
      board: this.board.name,
      logs: () => this.ring.tail(),
      upgrader: () => this.upgrader,
      network: () => this.network,
      ...this.restartHook(),
    });
    this.supervisor.add(web);
    this.events = new EventJournal({ bus: this.bus, clock: this.clock, log: this.log.child('events'), dir: this.board.paths.data });
    this.supervisor.add(this.events);
    if (this.board.watchdog) this.supervisor.add(new WatchdogService(this.board.watchdog, this.log.child('watchdog')));
    const net = this.board.network;
    this.network = new NetworkService({
      log: this.log.child('network'),
      bus: this.bus,
      clock: this.clock,
      settings: () => {
        const n = this.config.get().network;
        return { lan: n.lan, ntp: n.ntp };
      },
      board: { lanInterface: net.lanInterface, networkdDir: net.networkdDir, timesyncdDir: net.timesyncdDir, apply: net.manage },
      dataDir: this.board.paths.data,
    });
    this.supervisor.add(this.network);
    if (this.config.get().mqtt.enabled) {
      // Other services reach it through `fw.mqtt` to register their entities and command handlers.
      this.mqtt = new MqttService({
        bus: this.bus,
        log: this.log.child('mqtt'),
        clock: this.clock,
        settings: () => ({ mqtt: this.config.get().mqtt, systemName: this.config.get().system.name }),
        dataDir: this.board.paths.data,
        device: { model: this.board.name, manufacturer: 'dvr-firmware', swVersion: this.version },
      });
      this.supervisor.add(this.mqtt);
    }
    // Directory bays exist only on the sim board, where "inserting a disk" is making its folder.
    for (const b of this.board.sata) if (b.kind === 'directory') await mkdir(b.path, { recursive: true });
    const w = this.wiring();
    const recording = wireRecording(w);
    if (recording) {
      this.store = recording.store;
      this.disks = recording.disks;
      this.gate = recording.gate;
      this.nvr = recording.nvr;
      this.dvr = recording.dvr;
      this.live = combineLiveChannels(recording.nvr, ...(recording.dvrLive ? [recording.dvrLive] : []));
      wireRestream(w, this.live, credentials, web);
    }
    wireMqttEntities(w, this.store);
    this.alarms = wireAlarms(w);
    const onvif = wireOnvif(w);
    this.ptz = wirePtz(w, onvif.ptz);
    const snapshots = wireSnapshots(w, { ...(this.dvr ? { dvr: this.dvr } : {}), onvif: onvif.cameras });
    this.snapshots = snapshots.store;
    this.liveSnapshots = snapshots.live;
    this.addLinkage();
    const systemd = new SystemdService(env, this.log.child('systemd'), () => this.summary());
    this.supervisor.add(systemd);
    await this.supervisor.start();
    systemd.ready();
  }

  /** How the page restarts this box: the board itself where its profile says so, else the firmware in place. */
  private restartHook(): { restart?: { kind: RestartKind; run: () => void } } {
    if (this.board.restart === 'board') {
      // Fixed arguments: nothing from a request reaches the command.
      return { restart: { kind: 'board', run: () => void execFile('systemctl', ['reboot'], (err) => err && this.log.error('reboot failed', { error: err.message })) } };
    }
    const run = this.opts.onRestart;
    return run ? { restart: { kind: 'firmware', run } } : {};
  }

  /** The version the install root's current slot holds, when it is not the one running (an upgrade or rollback waits for a new process). */
  async pendingVersion(): Promise<string | null> {
    const current = (await this.upgrader?.status().catch(() => null))?.current ?? null;
    return current && current !== this.version ? current : null;
  }

  private wiring(): Wiring {
    return {
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      board: this.board,
      config: this.config,
      supervisor: this.supervisor,
      rs485Lines: this.rs485Lines,
      ...(this.mqtt ? { mqtt: this.mqtt } : {}),
      addCommands: (c) => this.addCommands(c),
    };
  }

  private addLinkage(): void {
    const config = () => this.config.get();
    const targets = boxTargets({
      bus: this.bus,
      clock: this.clock,
      channels: () => [...config().channels.map((c) => c.id), ...config().dvrChannels.map((c) => c.id)],
      ...(this.store ? { store: this.store } : {}),
      ...(this.gate ? { recorder: this.gate } : {}),
      ...(this.snapshots ? { snapshots: this.snapshots } : {}),
      ...(this.ptz ? { ptz: this.ptz } : {}),
      ...(this.alarms ? { alarms: this.alarms } : {}),
      mqttEnabled: this.mqtt !== undefined,
    });
    this.supervisor.add(
      new LinkageService({ bus: this.bus, clock: this.clock, log: this.log.child('linkage'), rules: () => config().linkage.rules, timezone: () => config().system.timezone, targets }),
    );
  }

  async stop(): Promise<{ timedOut: string[] }> {
    this.log.info('firmware stopping');
    const r = await this.supervisor.stop(this.opts.stopBoundMs ?? 10_000);
    this.log.info('firmware stopped', { timedOut: r.timedOut });
    return r;
  }

  private summary(): string {
    const s = this.supervisor.status();
    const down = s.filter((x) => x.state !== 'running').map((x) => `${x.name} ${x.state}`);
    return down.length ? `degraded: ${down.join(', ')}` : `running ${s.length} services`;
  }

  /** Commands the feature modules registered (`disk.*`, `rec.*`, ...). */
  private readonly commands: ControlCommands = new Map();

  private addCommands(commands: ControlCommands): void {
    for (const [name, handler] of commands) this.commands.set(name, handler);
  }

  private async control(request: ControlRequest | CommandRequest): Promise<unknown> {
    const command = this.commands.get(request.cmd);
    if (command) {
      const args = (request as CommandRequest).args;
      return command(typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {});
    }
    const req = request as ControlRequest;
    switch (req.cmd) {
      case 'status':
        return {
          version: this.version,
          board: this.board.name,
          uptimeS: Math.round((this.clock.now() - this.startedAt) / 1000),
          config: this.configReport,
          services: this.supervisor.status(),
          disks: this.store?.disks() ?? [],
          recording: this.store?.streams() ?? [],
          writers: this.store?.writerStats() ?? {},
          channels: this.nvr?.status() ?? [],
          analog: this.dvr?.status() ?? [],
          alarms: this.alarms ? { inputs: this.alarms.inputs(), relays: this.alarms.relays(), buzzer: this.alarms.buzzerState(), modules: this.alarms.modules() } : null,
          ptz: this.ptz?.status() ?? [],
        };
      case 'config.get':
        return req.path ? this.config.getPath(req.path) : this.config.get();
      case 'config.set':
        await this.config.set(req.path, req.value);
        this.log.info('setting changed', { path: req.path, by: 'cli' });
        return this.config.getPath(req.path);
      case 'config.reset':
        await this.config.reset();
        this.log.warn('factory reset of the config', { by: 'cli' });
        return this.config.get();
      case 'log.tail':
        return this.ring.tail(Math.min(Math.max(1, req.n ?? 100), this.ring.capacity));
      default:
        throw new Error(`unknown command "${String((req as { cmd: unknown }).cmd).slice(0, 40)}"`);
    }
  }
}

/**
 * Runs the firmware until SIGTERM/SIGINT, then stops within the bound and
 * exits. A second signal, or a stop that overruns, exits at once.
 */
export async function runFirmware(opts: FirmwareOptions): Promise<void> {
  const bound = opts.stopBoundMs ?? 10_000;
  let stopping = false;
  let restarting = false;
  // A restart from the page: the same process stops this firmware and starts a new one from the files.
  const restart = async () => {
    if (stopping || restarting) return;
    restarting = true;
    fw.log.warn('restarting the firmware');
    const r = await fw.stop();
    if (r.timedOut.length) {
      // Something did not let go: only a new process is a clean start (systemd makes one).
      fw.log.error('restart: services did not stop, exiting', { timedOut: r.timedOut });
      process.exit(1);
    }
    if (stopping) return;
    const pending = await fw.pendingVersion();
    if (pending && (opts.env ?? process.env).INVOCATION_ID) {
      // Modules already loaded cannot be swapped in place: systemd starts the current slot in a new process.
      fw.log.warn('restarting into another firmware version: exiting for systemd to start it', { version: pending });
      process.exit(0);
    }
    if (pending) fw.log.warn('another firmware version is installed; this process keeps running its own until started from the current slot', { version: pending });
    fw = new Firmware({ ...opts, onRestart: () => void restart() });
    restarting = false;
    await fw.start().catch((e: unknown) => {
      fw.log.error('restart failed', { error: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    });
  };
  let fw = new Firmware({ ...opts, onRestart: () => void restart() });
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      fw.log.warn('second signal: exiting now', { signal: sig });
      process.exit(1);
    }
    stopping = true;
    fw.log.info('signal received', { signal: sig });
    // The last resort if a stop hangs beyond every per-service bound.
    setTimeout(() => {
      fw.log.error('shutdown overran its bound: exiting', { boundMs: bound });
      process.exit(1);
    }, bound + 1000).unref();
    void fw.stop().then((r) => process.exit(r.timedOut.length ? 1 : 0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    // A bug must not take recording down silently: log it loudly; systemd restarts us if it is fatal.
    fw.log.error('uncaught exception', { error: err.message, stack: err.stack });
  });
  process.on('unhandledRejection', (err) => {
    fw.log.error('unhandled rejection', { error: err instanceof Error ? err.message : String(err) });
  });
  await fw.start();
}
