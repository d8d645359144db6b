// The PTZ API the rest of the firmware (web, MQTT, alarms) uses, and its
// Pelco implementation over a serial bus device.
import type { BusDevice, SendOutcome } from '../../drivers/serial/index.js';
import { BusError } from '../../drivers/serial/index.js';
import { PositionReplyParser, type PositionAxis } from './frame-reader.js';
import { MAX_SPEED, encode, type Motion, type PelcoCommand, type PelcoProtocol } from './pelco.js';

/** Where the dome points. */
export interface PtzPosition {
  /** Hundredths of a degree, 0..35999. */
  pan: number;
  /** Hundredths of a degree from the horizon, positive below it (domes look down). */
  tilt: number;
  /** Lens position as the dome reports it, 0 (wide) .. 65535. */
  zoom: number;
}

export interface Preset {
  number: number;
  name: string;
}

export type Direction = -1 | 0 | 1;
export type PatternAction = 'record' | 'end-record' | 'run';

export interface PtzController {
  /**
   * Continuous move; each speed -1..1: pan > 0 right, tilt > 0 up, zoom > 0
   * in (tele). 0 stops that axis. `turbo` pans at the dome's top speed.
   */
  move(pan: number, tilt: number, zoom: number, options?: { turbo?: boolean }): Promise<void>;
  /** Stops pan, tilt, zoom, focus and iris. */
  stop(): Promise<void>;
  /** `speed` 0..1: only for domes configured to take a recall speed (see README). */
  gotoPreset(n: number, speed?: number): Promise<void>;
  /** Stores where the head points as preset n; without a name a known preset keeps its own. */
  setPreset(n: number, name?: string): Promise<void>;
  clearPreset(n: number): Promise<void>;
  /**
   * Names preset n without storing a position, where the names are the
   * firmware's (Pelco: the dome keeps only numbers). Absent where the camera
   * keeps the names (ONVIF: SetPreset would also store a new position).
   */
  renamePreset?(n: number, name: string): Promise<void>;
  presets(): Preset[];
  /** -1 near, 1 far, 0 stop. */
  focus(direction: Direction): Promise<void>;
  /** -1 close, 1 open, 0 stop. */
  iris(direction: Direction): Promise<void>;
  aux(n: number, on: boolean): Promise<void>;
  autoScan(on: boolean): Promise<void>;
  /** Record a pattern (then move the dome), end the recording, or run it. */
  pattern(action: PatternAction, n?: number): Promise<void>;
  position?(): Promise<PtzPosition>;
}

/** Longest preset name: what fits a button in the page and in Home Assistant. */
export const PRESET_NAME_MAX = 64;

/** Refuses a name the config would refuse (or a blank one), before anything reaches the dome. */
export function checkPresetName(name: string): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > PRESET_NAME_MAX) {
    throw new RangeError(`preset name must be 1..${PRESET_NAME_MAX} characters and not blank, got ${JSON.stringify(name)}`);
  }
  return name;
}

export class PtzError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'PtzError';
  }
}

export interface PelcoControllerOptions {
  protocol: PelcoProtocol;
  /** The dome's address as set on its switches (1-based for both protocols). */
  address: number;
  device: BusDevice;
  /** How long a position query waits for the answer (default 500 ms). */
  queryTimeoutMs?: number;
  /** Put the recall speed in data 1 of Go To Preset (vendor extension; default false). */
  presetSpeed?: boolean;
  /** Names of the presets stored on the dome (from the config): the dome cannot be asked. */
  presets?: Preset[];
}

function speed(label: string, v: number): number {
  if (!Number.isFinite(v) || v < -1 || v > 1) throw new RangeError(`${label} speed must be -1..1, got ${v}`);
  return v;
}

/** -1..1 to a Pelco speed byte; any non-zero request moves (at least speed 1). */
function toByte(v: number): number {
  return Math.max(1, Math.round(Math.abs(v) * MAX_SPEED));
}

export class PelcoController implements PtzController {
  readonly #o: PelcoControllerOptions;
  // Pelco frames carry the whole lens/motion state: a focus frame without the
  // pan bits stops the pan. So the state is kept and every frame sends all of it.
  #motion: Motion = {};
  #zoomSpeed: number | undefined;
  readonly #presets = new Map<number, string>();

  constructor(options: PelcoControllerOptions) {
    this.#o = options;
    for (const p of options.presets ?? []) this.#presets.set(p.number, p.name);
  }

  get label(): string {
    return `${this.#o.device.name} (Pelco-${this.#o.protocol.toUpperCase()} address ${this.#o.address})`;
  }

  async move(pan: number, tilt: number, zoom: number, options: { turbo?: boolean } = {}): Promise<void> {
    speed('pan', pan);
    speed('tilt', tilt);
    speed('zoom', zoom);
    const m: Motion = { focus: this.#motion.focus, iris: this.#motion.iris };
    if (pan) Object.assign(m, { pan: pan > 0 ? 'right' : 'left', panSpeed: toByte(pan), turbo: options.turbo || undefined });
    if (tilt) Object.assign(m, { tilt: tilt > 0 ? 'up' : 'down', tiltSpeed: toByte(tilt) });
    if (zoom) {
      m.zoom = zoom > 0 ? 'tele' : 'wide';
      // Zoom speed is a separate setting (0..3) in Pelco; send it only on change.
      const level = Math.min(3, Math.floor(Math.abs(zoom) * 4));
      if (level !== this.#zoomSpeed) {
        await this.#send({ type: 'zoom-speed', speed: level });
        this.#zoomSpeed = level;
      }
    }
    this.#motion = m;
    await this.#sendMotion();
  }

  async stop(): Promise<void> {
    this.#motion = {};
    await this.#sendMotion();
  }

  async focus(direction: Direction): Promise<void> {
    this.#motion = { ...this.#motion, focus: direction < 0 ? 'near' : direction > 0 ? 'far' : undefined };
    await this.#sendMotion();
  }

  async iris(direction: Direction): Promise<void> {
    this.#motion = { ...this.#motion, iris: direction < 0 ? 'close' : direction > 0 ? 'open' : undefined };
    await this.#sendMotion();
  }

  async gotoPreset(n: number, recallSpeed?: number): Promise<void> {
    const cmd: PelcoCommand = { type: 'preset-goto', preset: n };
    if (this.#o.presetSpeed && recallSpeed !== undefined && recallSpeed > 0) cmd.speed = toByte(speed('preset', recallSpeed));
    this.#motion = {};
    await this.#send(cmd);
  }

  async setPreset(n: number, name?: string): Promise<void> {
    if (name !== undefined) checkPresetName(name);
    await this.#send({ type: 'preset-set', preset: n });
    this.#presets.set(n, name ?? this.#presets.get(n) ?? `Preset ${n}`);
  }

  // Also names presets stored from the dome's own menu or a keyboard, which
  // the firmware cannot list: nothing is sent, so nothing can be overwritten.
  async renamePreset(n: number, name: string): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > 255) throw new RangeError(`preset must be an integer 1..255, got ${n}`);
    this.#presets.set(n, checkPresetName(name));
  }

  async clearPreset(n: number): Promise<void> {
    await this.#send({ type: 'preset-clear', preset: n });
    this.#presets.delete(n);
  }

  presets(): Preset[] {
    return [...this.#presets].sort((a, b) => a[0] - b[0]).map(([number, name]) => ({ number, name }));
  }

  async aux(n: number, on: boolean): Promise<void> {
    await this.#send({ type: on ? 'aux-on' : 'aux-off', aux: n });
  }

  async autoScan(on: boolean): Promise<void> {
    this.#motion = {};
    await this.#send({ type: 'auto-scan', on });
  }

  async pattern(action: PatternAction, n = 0): Promise<void> {
    const type = action === 'record' ? 'pattern-start' : action === 'end-record' ? 'pattern-stop' : 'pattern-run';
    await this.#send({ type, pattern: n });
  }

  async position(): Promise<PtzPosition> {
    const pan = await this.#query('pan');
    const tilt = await this.#query('tilt');
    const zoom = await this.#query('zoom');
    // Tilt comes as 0..35999 with angles above the horizon wrapped below 36000.
    return { pan, tilt: tilt > 18000 ? tilt - 36000 : tilt, zoom };
  }

  async #query(axis: PositionAxis): Promise<number> {
    const { protocol, address, device } = this.#o;
    const timeout = this.#o.queryTimeoutMs ?? 500;
    const frame = encode(protocol, address, { type: `query-${axis}` });
    try {
      return await device.request(frame, new PositionReplyParser(protocol, address, axis), timeout);
    } catch (e) {
      if (e instanceof BusError && e.code === 'ETIMEDOUT') {
        throw new PtzError(`${this.label} did not answer the ${axis} position query within ${timeout} ms`, 'ETIMEDOUT');
      }
      throw e instanceof BusError ? new PtzError(`${this.label}: ${axis} position query failed: ${e.message}`, e.code) : e;
    }
  }

  #sendMotion(): Promise<void> {
    // Coalesced: a queued, unsent motion frame is replaced by the newer one.
    return this.#send({ type: 'motion', ...this.#motion }, 'motion');
  }

  async #send(command: PelcoCommand, coalesce?: string): Promise<void> {
    const frame = encode(this.#o.protocol, this.#o.address, command);
    const outcome: SendOutcome = await this.#o.device.send(frame, coalesce ? { coalesce } : {});
    // A superseded or dropped move is fine: a newer move for this dome is on its
    // way, which is what the user wants. Any other command lost is an error.
    const lost = outcome === 'rejected' || outcome === 'failed' || outcome === 'closed';
    if (lost || (outcome === 'dropped' && !coalesce)) {
      throw new PtzError(`${this.label}: ${command.type} not sent (${outcome})`, outcome.toUpperCase());
    }
  }
}
