// The PTZ service: owns one RS-485 line, the bus on it, a controller per
// dome, and the tours and park timers that drive them.
import { SerialBus, SerialLine, type BusLease, type Rs485Status, type SerialLineOptions, type SharedLines } from '../../drivers/serial/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { memoryLogger, type Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { PelcoController, type Preset } from './controller.js';
import { ManagedDome } from './managed-dome.js';
import type { PelcoProtocol } from './pelco.js';
import type { ParkOptions, Tour } from './tour.js';

export interface DomeConfig {
  /** Stable id used by the API, e.g. "cam3". */
  id: string;
  protocol: PelcoProtocol;
  address: number;
  /** If this dome talks at another rate than the line's default. */
  baudRate?: number;
  queueLimit?: number;
  queryTimeoutMs?: number;
  presetSpeed?: boolean;
  park?: ParkOptions;
  /** Names of the presets stored on the dome. */
  presets?: Preset[];
}

export interface PtzServiceOptions {
  line: SerialLineOptions;
  domes: DomeConfig[];
  /** Inter-frame gap on the bus (ms). */
  gapMs?: number;
  /** Drives tours and park; the bus's own short waits use real time. */
  clock?: Clock;
  log?: Logger;
  name?: string;
  /**
   * Take the line's bus from this registry instead of opening the line
   * alone, so other devices on the same pair of wires (Modbus I/O modules)
   * share it; `gapMs` is then the registry's.
   */
  shared?: { lines: SharedLines; name: string };
  /**
   * Keeps a dome's preset names (the config store, see PtzDirectory); called
   * after every set, clear or rename with the dome's whole list.
   */
  savePresets?: (dome: string, presets: Preset[]) => Promise<void>;
}

export class PtzService implements Service {
  readonly name: string;
  #line: SerialLine | undefined;
  #lease: BusLease | undefined;
  #rs485: Rs485Status | undefined;
  #bus: SerialBus | undefined;
  readonly #domes = new Map<string, ManagedDome>();
  /** The names as last changed, so a restart of the line (stop, start) keeps them. */
  readonly #presets = new Map<string, Preset[]>();

  constructor(private readonly options: PtzServiceOptions) {
    this.name = options.name ?? 'ptz';
    for (const d of options.domes) this.#presets.set(d.id, d.presets ?? []);
  }

  #logger: Logger | undefined;

  get #log(): Logger {
    this.#logger ??= this.options.log ?? memoryLogger(this.name);
    return this.#logger;
  }

  get #clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    await this.stop();
    const ids = new Set<string>();
    for (const d of this.options.domes) {
      if (ids.has(d.id)) throw new Error(`PTZ dome id "${d.id}" is configured twice`);
      ids.add(d.id);
    }
    const shared = this.options.shared;
    let bus: SerialBus;
    if (shared) {
      this.#lease = await shared.lines.acquire(shared.name, this.options.line);
      bus = this.#lease.bus;
      this.#rs485 = this.#lease.rs485;
    } else {
      const line = new SerialLine(this.options.line);
      this.#line = line;
      await line.open();
      bus = new SerialBus({ line, log: this.#log, gapMs: this.options.gapMs });
      this.#rs485 = line.rs485;
    }
    const rs = this.#rs485;
    if (rs.requested && !rs.enabled) {
      // A pty, a USB adapter with automatic direction, or a UART without kernel
      // RS-485 support: frames still go out; direction is someone else's job.
      this.#log.warn('kernel RS-485 mode not available', { path: this.options.line.path, error: rs.error, code: rs.code });
    }
    this.#bus = bus;
    for (const d of this.options.domes) {
      const device = bus.device({ name: d.id, address: d.address, baudRate: d.baudRate, queueLimit: d.queueLimit });
      const controller = new PelcoController({
        protocol: d.protocol,
        address: d.address,
        device,
        queryTimeoutMs: d.queryTimeoutMs,
        presetSpeed: d.presetSpeed,
        presets: this.#presets.get(d.id),
      });
      const dome = new ManagedDome(controller, {
        id: d.id,
        clock: this.#clock,
        log: this.#log.child(`${this.name}.${d.id}`),
        park: d.park,
        savePresets: async (presets) => {
          this.#presets.set(d.id, presets);
          await this.options.savePresets?.(d.id, presets);
        },
      });
      dome.arm();
      this.#domes.set(d.id, dome);
    }
    this.#log.info('PTZ bus ready', { path: this.options.line.path, domes: [...ids], rs485: rs.enabled });
  }

  async stop(): Promise<void> {
    for (const d of this.#domes.values()) d.halt();
    this.#domes.clear();
    const lease = this.#lease;
    this.#lease = undefined;
    // A shared bus stays open for the line's other users; the last release closes it.
    if (lease) await lease.release();
    else this.#bus?.close();
    this.#bus = undefined;
    const line = this.#line;
    this.#line = undefined;
    await line?.close();
  }

  /** The RS-485 status of the line (after start). */
  get rs485(): Rs485Status | undefined {
    return this.#bus ? this.#rs485 : undefined;
  }

  dome(id: string): ManagedDome {
    return this.#dome(id);
  }

  /** Starts `tour` on dome `id`, replacing any tour running there. */
  startTour(id: string, tour: Tour): void {
    this.#dome(id).startTour(tour);
  }

  stopTour(id: string): void {
    this.#dome(id).stopTour();
  }

  tourRunning(id: string): string | undefined {
    return this.#dome(id).tourRunning;
  }

  #dome(id: string): ManagedDome {
    const d = this.#domes.get(id);
    if (!d) throw new Error(`no PTZ dome "${id}"${this.#bus ? '' : ' (service not started)'}`);
    return d;
  }
}
