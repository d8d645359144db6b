// Modbus RTU alarm I/O modules ("8-in/8-out" relay boards) on the RS-485
// lines: each module's discrete inputs are polled on the shared bus, changes
// go to whoever listens (ModbusAlarmGpio, for the AlarmService), coils are
// written on demand, and a module that stops answering is reported
// (`alarmModuleState`, and `alarmFault` on each of its lines) until it
// answers again (`alarmModuleState`, `alarmRestored`).
import type { BusLease, SerialLineOptions, SharedLines } from '../../drivers/serial/index.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { ModbusClient } from '../modbus/index.js';
import type { ModuleConfig } from './config.js';
import './events.js';
import type { ModuleStatus } from './types.js';

/** The chip name of a module's lines in the board's GPIO table, and the source of their events: `modbus:<id>`. */
export const MODBUS_CHIP_PREFIX = 'modbus:';

export const moduleInputName = (id: string, n: number): string => `${id}.in${n}`;
export const moduleOutputName = (id: string, n: number): string => `${id}.out${n}`;

export interface ModbusIoOptions {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** The box's RS-485 buses, shared with the PTZ domes. */
  lines: SharedLines;
  /** Serial options of the RS-485 line the board calls `name`; undefined when it has none. */
  line: (name: string, baudRate: number) => SerialLineOptions | undefined;
  /** Read at each start. */
  modules: () => readonly ModuleConfig[];
  /** Per request (default 150 ms). */
  timeoutMs?: number;
  /** Consecutive failed polls before a module is reported lost (default 3): one lost frame is noise, not a fault. */
  failures?: number;
  /** Wait before trying again to open a line that would not open (default 5 s). */
  retryMs?: number;
  /**
   * Poll period while a module is lost (default 1 s, never shorter than its
   * pollMs): each unanswered poll holds the shared bus for a whole timeout,
   * which the PTZ domes on it would otherwise wait behind.
   */
  lostPollMs?: number;
}

type InputListener = (index: number, value: boolean) => void;
/** null: the module answers; otherwise why its lines cannot be used. */
type StateListener = (unavailable: string | null) => void;

/** One module: its poll loop, coil writes and fault state. */
export class ModbusModule {
  /** Inputs as last read (raw: true = input energised); null before the first read. */
  inputs: boolean[] | null = null;
  /** Coils as the firmware wants them; re-written after the module comes back (it may have rebooted with all off). */
  readonly wanted: boolean[];
  online: boolean | null = null;
  /** Wall-clock ms of the last change of `online`. */
  since: number | null = null;
  error: string | null = null;
  lastError: { message: string; at: number } | null = null;
  readonly stats = { polls: 0, failures: 0, writes: 0 };
  readonly source: string;
  #known: boolean[] | null = null;
  #failures = 0;
  #unavailable: string | null = null;
  #listeners = new Set<InputListener>();
  #stateListeners = new Set<StateListener>();
  #lease: BusLease | undefined;
  #client: ModbusClient | undefined;
  #timer: Timer | undefined;
  #running = false;
  #gen = 0;
  #sync: Promise<void> | undefined;
  #syncAgain = false;

  constructor(
    readonly cfg: ModuleConfig,
    private readonly o: ModbusIoOptions,
    private readonly log: Logger,
  ) {
    this.wanted = new Array<boolean>(cfg.outputs).fill(false);
    this.source = `${MODBUS_CHIP_PREFIX}${cfg.id}`;
  }

  /** Line names of this module, inputs then outputs. */
  lines(): string[] {
    const c = this.cfg;
    return [...Array.from({ length: c.inputs }, (_, i) => moduleInputName(c.id, i + 1)), ...Array.from({ length: c.outputs }, (_, i) => moduleOutputName(c.id, i + 1))];
  }

  /**
   * Called with (input index, raw value) on each change seen by a poll, and
   * for every input at the first answer after the module was lost: a
   * listener may have dropped a change that was still settling when the
   * module went silent. Returns the unsubscribe function.
   */
  onInput(listener: InputListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called when the module is lost (with why) and when it answers again (null), before that answer's inputs. */
  onState(listener: StateListener): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Why its lines cannot be used now (it does not answer), or null. */
  unavailable(): string | null {
    return this.#unavailable;
  }

  /** Starts polling; resolves after the first poll (answered or not), so the inputs are known when it did answer. */
  async start(): Promise<void> {
    this.#running = true;
    const gen = ++this.#gen;
    if (this.cfg.inputs === 0 && this.cfg.outputs === 0) return;
    await this.#cycle(gen);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#gen++;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    // A coil write already asked for (relays off on the way down) goes out before the bus is let go.
    await this.#sync;
    const lease = this.#lease;
    this.#lease = undefined;
    this.#client = undefined;
    this.#known = null;
    this.online = null;
    this.since = null;
    this.#unavailable = null;
    this.#failures = 0;
    await lease?.release();
  }

  /** Sets coil `index` (0-based) as wanted; written at once, and again whenever the module comes back. */
  setCoil(index: number, on: boolean): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.cfg.outputs) throw new RangeError(`module ${this.cfg.id} has no output ${index + 1}`);
    this.wanted[index] = on;
    this.#startSync();
  }

  status(): ModuleStatus {
    const c = this.cfg;
    return {
      id: c.id,
      bus: c.bus,
      address: c.address,
      online: this.online,
      since: this.since,
      error: this.error,
      lastError: this.lastError?.message ?? null,
      lastErrorAt: this.lastError?.at ?? null,
      inputs: this.inputs && [...this.inputs],
      coils: [...this.wanted],
      polls: this.stats.polls,
      failures: this.stats.failures,
    };
  }

  async #cycle(gen: number): Promise<void> {
    const started = this.o.clock.monotonic();
    let wait = this.online === false ? Math.max(this.cfg.pollMs, this.o.lostPollMs ?? 1000) : this.cfg.pollMs;
    if (!this.#client) {
      const options = this.o.line(this.cfg.bus, this.cfg.baudRate);
      if (!options) {
        // Configuration, not a transient fault: reported once, never polled.
        this.#failed(`RS-485 line "${this.cfg.bus}" is not on this board`, true);
        return;
      }
      try {
        const lease = await this.o.lines.acquire(this.cfg.bus, options);
        if (gen !== this.#gen) return void (await lease.release());
        this.#lease = lease;
        const device = lease.bus.device({
          name: `modbus ${this.cfg.id}`,
          address: this.cfg.address,
          baudRate: this.cfg.baudRate,
          // Polls and coil writes are never more than two at a time; a full queue means a wedged bus.
          queueLimit: 4,
          overflow: 'reject-newest',
        });
        this.#client = new ModbusClient({ channel: device, address: this.cfg.address, timeoutMs: this.o.timeoutMs });
      } catch (e) {
        if (gen !== this.#gen) return;
        this.#failed(`RS-485 line "${this.cfg.bus}" cannot be opened: ${(e as Error).message}`, true);
        wait = this.o.retryMs ?? 5000;
      }
    }
    const client = this.#client;
    if (client) {
      try {
        const c = this.cfg;
        // A module without inputs is still polled (its coils), to know it is there.
        const values = c.inputs > 0 ? await client.readDiscreteInputs(0, c.inputs) : await client.readCoils(0, c.outputs);
        if (gen !== this.#gen) return;
        this.#answered(c.inputs > 0 ? values : null);
      } catch (e) {
        if (gen !== this.#gen) return;
        this.#failed((e as Error).message);
      }
    }
    if (!this.#running || gen !== this.#gen) return;
    // Counted from the start of this poll: a slow reply does not stretch the period.
    const delay = Math.max(0, wait - (this.o.clock.monotonic() - started));
    this.#timer = this.o.clock.setTimeout(() => void this.#cycle(gen), delay);
  }

  #answered(values: boolean[] | null): void {
    this.stats.polls++;
    this.#failures = 0;
    const wasLost = this.online === false;
    if (wasLost) {
      this.log.info('Modbus module answers again', { module: this.cfg.id, bus: this.cfg.bus, address: this.cfg.address });
      const at = this.o.clock.now();
      for (const line of this.lines()) this.o.bus.emit('alarmRestored', { source: this.source, line, at });
      this.#known = null; // it may have been power-cycled: write every coil again
    }
    this.error = null;
    if (this.online !== true) this.#changeState(true);
    if (values) {
      const before = wasLost ? null : this.inputs;
      this.inputs = values;
      for (let i = 0; i < values.length; i++) {
        if (before !== null && before[i] === values[i]) continue;
        for (const l of this.#listeners) l(i, values[i]!);
      }
    }
    this.#startSync();
  }

  #failed(error: string, now = false): void {
    this.stats.failures++;
    this.#failures++;
    this.lastError = { message: error, at: this.o.clock.now() };
    if (this.online === false) {
      this.error = error;
      return;
    }
    if (!now && this.#failures < (this.o.failures ?? 3)) return;
    this.error = error;
    const c = this.cfg;
    this.log.error('Modbus module lost', { module: c.id, bus: c.bus, address: c.address, error });
    this.#changeState(false, error);
    const at = this.since!;
    for (const line of this.lines()) this.o.bus.emit('alarmFault', { source: this.source, line, error: this.#unavailable!, at });
  }

  #changeState(online: boolean, error?: string): void {
    const c = this.cfg;
    const at = this.o.clock.now();
    const previous = this.online === null ? null : this.online ? 'online' : 'offline';
    this.online = online;
    this.since = at;
    this.#unavailable = online ? null : `Modbus module ${c.id} (address ${c.address} on ${c.bus}) is not answering since ${new Date(at).toISOString()}: ${error}`;
    for (const l of this.#stateListeners) l(this.#unavailable);
    this.o.bus.emit('alarmModuleState', {
      module: c.id,
      bus: c.bus,
      address: c.address,
      state: online ? 'online' : 'offline',
      previous,
      at,
      ...(error !== undefined ? { detail: error } : {}),
    });
  }

  #startSync(): void {
    if (this.#sync) {
      this.#syncAgain = true;
      return;
    }
    if (!this.#client || !this.#differs()) return;
    this.#sync = this.#writeCoils().finally(() => {
      this.#sync = undefined;
      if (this.#syncAgain && this.#running) {
        this.#syncAgain = false;
        this.#startSync();
      }
    });
  }

  #differs(): boolean {
    const k = this.#known;
    return this.cfg.outputs > 0 && (k === null || this.wanted.some((w, i) => w !== k[i]));
  }

  // One coil changed: Write Single Coil, which every relay board takes; otherwise
  // (or when the module's state is unknown) all of them at once.
  async #writeCoils(): Promise<void> {
    const client = this.#client;
    while (client && client === this.#client && this.#differs()) {
      const want = [...this.wanted];
      const known = this.#known;
      const changed = known ? want.flatMap((w, i) => (w !== known[i] ? [i] : [])) : [];
      try {
        if (changed.length === 1) await client.writeCoil(changed[0]!, want[changed[0]!]!);
        else await client.writeCoils(0, want);
        this.stats.writes++;
        this.#known = want;
      } catch (e) {
        // The coils' state is unknown now; the next answered poll writes them all.
        this.#known = null;
        this.log.warn('Modbus coil write failed', { module: this.cfg.id, error: (e as Error).message });
        if (this.#running) this.#failed((e as Error).message);
        this.#syncAgain = false;
        return;
      }
    }
  }
}

/**
 * Every configured module, started and stopped together. The AlarmService
 * reaches them through ModbusAlarmGpio (modbus-gpio.ts), which starts this
 * service when the alarm service opens the modules' lines.
 */
export class ModbusIoService implements Service {
  readonly name = 'modbus-io';
  #modules = new Map<string, ModbusModule>();
  #running = false;

  constructor(private readonly o: ModbusIoOptions) {}

  get running(): boolean {
    return this.#running;
  }

  async start(): Promise<void> {
    await this.stop();
    const configs = this.o.modules();
    const ids = new Set<string>();
    const addresses = new Map<string, string>();
    for (const c of configs) {
      if (ids.has(c.id)) throw new Error(`Modbus module id "${c.id}" is configured twice`);
      ids.add(c.id);
      const key = `${c.bus}/${c.address}`;
      const other = addresses.get(key);
      if (other) throw new Error(`Modbus modules "${other}" and "${c.id}" both have address ${c.address} on ${c.bus}`);
      addresses.set(key, c.id);
    }
    for (const c of configs) this.#modules.set(c.id, new ModbusModule(c, this.o, this.o.log.child(`modbus-${c.id}`)));
    this.#running = true;
    await Promise.all([...this.#modules.values()].map((m) => m.start()));
  }

  async stop(): Promise<void> {
    this.#running = false;
    const modules = [...this.#modules.values()];
    this.#modules.clear();
    await Promise.all(modules.map((m) => m.stop()));
  }

  module(id: string): ModbusModule {
    const m = this.#modules.get(id);
    if (!m) throw new Error(`no Modbus module "${id}"${this.#running ? '' : ' (service not started)'}`);
    return m;
  }

  status(): ModuleStatus[] {
    return [...this.#modules.values()].map((m) => m.status());
  }
}
