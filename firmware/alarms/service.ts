import type { BoardProfile } from '../board/profile.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { inSchedule } from '../linkage/schedule.js';
import { TimeZoneGuard } from '../core/timezone.js';
import type { AlarmsConfig, InputConfig, RelayConfig } from './config.js';
import './events.js';
import type { AlarmGpio, InputGroup, OutputGroup, PortEdge } from './port.js';
import type { ArmMode, BuzzerPattern, InputStatus, ModuleStatus, RelayStatus } from './types.js';

export interface AlarmServiceOptions {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  gpio: AlarmGpio;
  /** The board's alarm lines (BoardProfile.gpio). */
  board: () => BoardProfile['gpio'];
  config: () => AlarmsConfig;
  /** IANA time zone the schedules are in (system.timezone). */
  timezone: () => string;
}

type BoardLine = BoardProfile['gpio']['alarmInputs'][number];

interface Input {
  line: BoardLine;
  /** What its `alarm` events give as their source ('gpio', `modbus:<id>`). */
  source: string;
  cfg: InputConfig;
  mode: ArmMode;
  armed: boolean;
  /** Last value reported by the port (logical line value: contact closed). */
  raw: boolean | null;
  /** Accepted (debounced) line value. */
  stable: boolean | null;
  settle?: Timer;
  softDebounce: boolean;
  lastLineSeqno?: number;
  alarm: boolean;
  fault: string | null;
  /** Why the line cannot be read for now (its Modbus module is silent); its last value stands. */
  unavailable: string | null;
  group?: InputGroup;
}

interface Relay {
  line: BoardLine;
  cfg: RelayConfig;
  on: boolean;
  off?: Timer;
  fault: string | null;
  group?: OutputGroup;
}

const GPIO_SOURCE = 'gpio';
const DEFAULT_INPUT: Omit<InputConfig, 'input'> = { name: '', enabled: true, contact: 'no', debounceMs: 50, schedule: null };
const DEFAULT_RELAY: Omit<RelayConfig, 'relay'> = { mode: 'latched', pulseMs: 2000 };

/**
 * Alarm inputs, relay outputs and the buzzer on the board's GPIO lines.
 * Inputs are debounced (by the kernel, or here when it cannot), turned into
 * an alarm condition by their contact type (NO/NC), and raise the bus's
 * `alarm` event only while armed; every debounced change is also reported as
 * `alarmInput`, armed or not. A line that fails is reported (`alarmFault`)
 * and taken out of service; the rest carry on.
 */
export class AlarmService implements Service {
  readonly name = 'alarms';
  readonly dependsOn: readonly string[] = [];
  private inputsByName = new Map<string, Input>();
  private relaysByName = new Map<string, Relay>();
  private inputGroups: InputGroup[] = [];
  private outputGroups: OutputGroup[] = [];
  private buzzerLine: { line: BoardLine; group?: OutputGroup; fault: string | null } | null = null;
  private buzzing: { pattern: BuzzerPattern; timer?: Timer; level: boolean } | null = null;
  private scheduleTimer?: Timer;
  private running = false;
  /** Hand-set arm modes survive a restart of the service (not of the process). */
  private modes = new Map<string, ArmMode>();

  /** Intl throws on an unknown zone: UTC instead, said once. */
  private readonly zones: TimeZoneGuard;

  constructor(private readonly o: AlarmServiceOptions) {
    this.zones = new TimeZoneGuard(o.log);
  }

  async start(): Promise<void> {
    await this.stop();
    this.running = true;
    const board = this.o.board();
    const cfg = this.o.config();
    const now = this.o.clock.now();
    for (const line of board.alarmInputs) {
      const c = { ...DEFAULT_INPUT, ...cfg.inputs.find((i) => i.input === line.name), input: line.name };
      const mode = this.modes.get(line.name) ?? 'auto';
      const source = this.o.gpio.sourceOf?.(line.chip) ?? GPIO_SOURCE;
      const input: Input = { line, source, cfg: c, mode, armed: false, raw: null, stable: null, softDebounce: false, alarm: false, fault: null, unavailable: null };
      input.armed = this.shouldArm(input, now);
      this.inputsByName.set(line.name, input);
    }
    for (const r of cfg.inputs) if (!this.inputsByName.has(r.input)) this.o.log.warn('alarm input not on this board', { input: r.input });
    for (const line of board.relays) {
      const c = { ...DEFAULT_RELAY, ...cfg.relays.find((r) => r.relay === line.name), relay: line.name };
      this.relaysByName.set(line.name, { line, cfg: c, on: false, fault: null });
    }
    for (const r of cfg.relays) if (!this.relaysByName.has(r.relay)) this.o.log.warn('relay not on this board', { relay: r.relay });
    if (board.buzzer) this.buzzerLine = { line: board.buzzer, fault: null };

    await this.openInputs();
    await this.openOutputs();
    for (const input of this.inputsByName.values()) {
      if (input.stable !== null && input.armed && this.condition(input)) this.setAlarm(input, true);
    }
    this.scheduleNextMinute();
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    if (this.scheduleTimer) this.o.clock.clearTimeout(this.scheduleTimer);
    this.scheduleTimer = undefined;
    for (const i of this.inputsByName.values()) if (i.settle) this.o.clock.clearTimeout(i.settle);
    if (this.buzzing?.timer) this.o.clock.clearTimeout(this.buzzing.timer);
    this.buzzing = null;
    for (const r of this.relaysByName.values()) {
      if (r.off) this.o.clock.clearTimeout(r.off);
      // Release outputs in their safe state: a siren must not outlive the firmware.
      if (r.on && r.group && !r.fault) this.tryWrite(() => r.group!.set(r.line.name, false));
    }
    if (this.buzzerLine?.group && !this.buzzerLine.fault) {
      const b = this.buzzerLine;
      this.tryWrite(() => b.group!.set(b.line.name, false));
    }
    const closing = this.inputGroups.map((g) => g.close().catch(() => {}));
    await Promise.all(closing);
    for (const g of this.outputGroups) this.tryWrite(() => g.close());
    this.inputGroups = [];
    this.outputGroups = [];
    this.inputsByName.clear();
    this.relaysByName.clear();
    this.buzzerLine = null;
    if (wasRunning) await this.o.gpio.close?.();
  }

  // --- inputs -----------------------------------------------------------------

  private async openInputs(): Promise<void> {
    const byChip = new Map<string, Input[]>();
    for (const i of this.inputsByName.values()) {
      if (!i.cfg.enabled) continue;
      byChip.set(i.line.chip, [...(byChip.get(i.line.chip) ?? []), i]);
    }
    for (const [chip, inputs] of byChip) {
      try {
        const group = await this.o.gpio.openInputs(
          chip,
          // An active-low input is a contact to ground: the pin needs a pull-up
          // to read inactive while the contact is open. Asking the kernel for
          // it is harmless where the board has its own resistor.
          inputs.map((i) => ({ name: i.line.name, line: i.line.line, activeLow: i.line.activeLow, debounceUs: i.cfg.debounceMs * 1000, pullUp: i.line.activeLow })),
          {
            edge: (name, e) => this.onEdge(name, e),
            error: (err) => this.fault(inputs.map((i) => i.line.name), err, (n) => this.inputFault(n)),
            unavailable: (reason) => this.inputsUnavailable(inputs, reason),
          },
        );
        if (!this.running) {
          await group.close();
          return;
        }
        this.inputGroups.push(group);
        const values = group.values();
        for (const i of inputs) {
          i.group = group;
          i.softDebounce = !group.kernelDebounce && i.cfg.debounceMs > 0;
          i.raw = values.get(i.line.name) ?? null;
          i.stable = i.raw;
        }
      } catch (err) {
        this.fault(inputs.map((i) => i.line.name), err as Error, (n) => this.inputFault(n));
      }
    }
  }

  private inputFault(name: string): void {
    const i = this.inputsByName.get(name);
    if (!i) return;
    if (i.settle) this.o.clock.clearTimeout(i.settle);
    i.stable = null;
    i.raw = null;
  }

  /**
   * While a module is silent its inputs keep their last accepted value, and a
   * change still settling is dropped: nothing says it held. The module
   * reports every input again when it answers, so a real change is not lost.
   */
  private inputsUnavailable(inputs: Input[], reason: string | null): void {
    for (const i of inputs) {
      i.unavailable = reason;
      if (reason === null || !i.settle) continue;
      this.o.clock.clearTimeout(i.settle);
      i.settle = undefined;
      i.raw = i.stable;
    }
  }

  private fault(lines: string[], err: Error, mark: (line: string) => void): void {
    const at = this.o.clock.now();
    for (const line of lines) {
      const target = this.inputsByName.get(line) ?? this.relaysByName.get(line) ?? (this.buzzerLine?.line.name === line ? this.buzzerLine : undefined);
      if (target) target.fault = err.message;
      mark(line);
      this.o.log.error('alarm line out of service', { line, error: err.message });
      const source = target ? (this.o.gpio.sourceOf?.(target.line.chip) ?? GPIO_SOURCE) : GPIO_SOURCE;
      this.o.bus.emit('alarmFault', { source, line, error: err.message, at });
    }
  }

  private onEdge(name: string, e: PortEdge): void {
    const i = this.inputsByName.get(name);
    if (!i || !this.running || i.fault || i.unavailable) return;
    if (i.lastLineSeqno !== undefined && e.lineSeqno !== i.lastLineSeqno + 1) {
      // The kernel's event buffer overflowed: edges were lost. The edge still
      // gives the current value; note the gap so a missed pulse is explainable.
      this.o.log.warn('alarm input lost edges', { input: name, missed: e.lineSeqno - i.lastLineSeqno - 1 });
    }
    i.lastLineSeqno = e.lineSeqno;
    i.raw = e.value;
    if (i.stable === null) return this.firstValue(i, e.value);
    if (!i.softDebounce) return this.accept(i, e.value);
    if (i.settle) this.o.clock.clearTimeout(i.settle);
    i.settle = undefined;
    if (e.value === i.stable) return; // bounced back before settling: nothing happened
    i.settle = this.o.clock.setTimeout(() => {
      i.settle = undefined;
      this.accept(i, e.value);
    }, i.cfg.debounceMs);
  }

  /**
   * The first value of a line that had none at start (a Modbus module that
   * answered late) is taken as a start value would be: not a change, but an
   * armed input already in alarm raises it.
   */
  private firstValue(i: Input, value: boolean): void {
    i.stable = value;
    if (i.armed && this.condition(i) && !i.alarm) this.setAlarm(i, true);
  }

  /** The alarm condition of the contact: NO closes (line active) on alarm, NC opens. */
  private condition(i: Input): boolean {
    return i.cfg.contact === 'nc' ? !i.stable : Boolean(i.stable);
  }

  private accept(i: Input, value: boolean): void {
    if (i.stable === value) return;
    i.stable = value;
    const active = this.condition(i);
    this.o.bus.emit('alarmInput', { input: i.line.name, active, armed: i.armed, at: this.o.clock.now() });
    if (i.armed && active !== i.alarm) this.setAlarm(i, active);
  }

  private setAlarm(i: Input, active: boolean): void {
    i.alarm = active;
    this.o.bus.emit('alarm', { source: i.source, input: i.line.name, active, at: this.o.clock.now() });
  }

  // --- arming ---------------------------------------------------------------------

  private shouldArm(i: Input, now: number): boolean {
    if (i.mode !== 'auto') return i.mode === 'armed';
    return inSchedule(i.cfg.schedule, now, this.zones.zone(this.o.timezone()));
  }

  private applyArm(i: Input, by: 'hand' | 'schedule'): void {
    const armed = this.shouldArm(i, this.o.clock.now());
    if (armed === i.armed) return;
    i.armed = armed;
    const at = this.o.clock.now();
    this.o.bus.emit('alarmArmed', { input: i.line.name, armed, mode: i.mode, by, at });
    const active = i.stable !== null && this.condition(i);
    // Arming with the contact already in alarm raises it (a door left open);
    // disarming clears a raised alarm.
    if (armed && active && !i.alarm) this.setAlarm(i, true);
    if (!armed && i.alarm) this.setAlarm(i, false);
  }

  /** Arm, disarm or return to the schedule, one input or '*' for all. */
  arm(input: string, mode: ArmMode): void {
    const targets = input === '*' ? [...this.inputsByName.values()] : [this.need(this.inputsByName.get(input), 'alarm input', input)];
    for (const i of targets) {
      i.mode = mode;
      this.modes.set(i.line.name, mode);
      this.applyArm(i, 'hand');
    }
  }

  private scheduleNextMinute(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    this.scheduleTimer = this.o.clock.setTimeout(() => {
      for (const i of this.inputsByName.values()) this.applyArm(i, 'schedule');
      this.scheduleNextMinute();
    }, 60_000 - (now % 60_000));
  }

  inputs(): InputStatus[] {
    return [...this.inputsByName.values()].map((i) => ({
      input: i.line.name,
      name: i.cfg.name || i.line.name,
      contact: i.cfg.contact,
      enabled: i.cfg.enabled,
      active: i.stable === null ? null : this.condition(i),
      armed: i.armed,
      mode: i.mode,
      alarm: i.alarm,
      fault: i.fault ?? i.unavailable,
    }));
  }

  /** The Modbus I/O modules behind the lines: online or not, since when, the last error. */
  modules(): ModuleStatus[] {
    return this.o.gpio.modules?.() ?? [];
  }

  // --- relays -------------------------------------------------------------------

  private async openOutputs(): Promise<void> {
    const byChip = new Map<string, BoardLine[]>();
    const lines = [...[...this.relaysByName.values()].map((r) => r.line), ...(this.buzzerLine ? [this.buzzerLine.line] : [])];
    for (const l of lines) byChip.set(l.chip, [...(byChip.get(l.chip) ?? []), l]);
    for (const [chip, chipLines] of byChip) {
      try {
        const group = await this.o.gpio.openOutputs(
          chip,
          chipLines.map((l) => ({ name: l.name, line: l.line, activeLow: l.activeLow, initial: false })),
        );
        this.outputGroups.push(group);
        for (const l of chipLines) {
          const r = this.relaysByName.get(l.name);
          if (r) r.group = group;
          else if (this.buzzerLine?.line.name === l.name) this.buzzerLine.group = group;
        }
      } catch (err) {
        this.fault(chipLines.map((l) => l.name), err as Error, () => {});
      }
    }
  }

  private need<T>(x: T | undefined, what: string, name: string): T {
    if (x === undefined) throw new Error(`unknown ${what} "${name}"`);
    return x;
  }

  private write(target: { line: BoardLine; group?: OutputGroup; fault: string | null }, value: boolean): void {
    if (target.fault) throw new Error(`${target.line.name} is out of service: ${target.fault}`);
    if (!target.group) throw new Error(`${target.line.name} is not available (service not running)`);
    try {
      target.group.set(target.line.name, value);
    } catch (err) {
      this.fault([target.line.name], err as Error, () => {});
      throw err;
    }
  }

  private tryWrite(fn: () => void): void {
    try {
      fn();
    } catch {
      // the line is gone; nothing left to release
    }
  }

  private setRelay(r: Relay, on: boolean): void {
    this.write(r, on);
    if (r.on === on) return;
    r.on = on;
    this.o.bus.emit('relayState', { relay: r.line.name, on, at: this.o.clock.now() });
  }

  /** Names of the relay outputs (for linkage rules). */
  outputs(): string[] {
    return [...this.relaysByName.keys()];
  }

  /**
   * Switch a relay. A momentary relay switched on turns itself off after its
   * pulseMs (`pulseMs` here overrides); a latched one stays as set.
   */
  async relay(name: string, on: boolean, pulseMs?: number): Promise<void> {
    const r = this.need(this.relaysByName.get(name), 'relay', name);
    if (r.off) this.o.clock.clearTimeout(r.off);
    r.off = undefined;
    this.setRelay(r, on);
    const ms = pulseMs ?? (r.cfg.mode === 'momentary' ? r.cfg.pulseMs : undefined);
    if (on && ms !== undefined) {
      r.off = this.o.clock.setTimeout(() => {
        r.off = undefined;
        try {
          this.setRelay(r, false);
        } catch (err) {
          this.o.log.warn('relay off failed', { relay: name, error: (err as Error).message });
        }
      }, ms);
    }
  }

  relays(): RelayStatus[] {
    return [...this.relaysByName.values()].map((r) => ({ relay: r.line.name, mode: r.cfg.mode, on: r.on, fault: r.fault ?? r.group?.unavailable?.() ?? null }));
  }

  // --- buzzer ---------------------------------------------------------------------

  /** Sound the buzzer (continuous, or beeping beepOnMs/beepOffMs) or silence it. */
  async buzzer(pattern: BuzzerPattern, on: boolean): Promise<void> {
    const b = this.buzzerLine;
    if (!b) throw new Error('this board has no buzzer');
    if (this.buzzing?.timer) this.o.clock.clearTimeout(this.buzzing.timer);
    const was = this.buzzing;
    if (!on) {
      this.buzzing = null;
      this.write(b, false);
      if (was) this.o.bus.emit('buzzerState', { on: false, pattern: null, at: this.o.clock.now() });
      return;
    }
    this.write(b, true);
    this.buzzing = { pattern, level: true };
    if (was?.pattern !== pattern) this.o.bus.emit('buzzerState', { on: true, pattern, at: this.o.clock.now() });
    if (pattern === 'beep') this.beep();
  }

  private beep(): void {
    const state = this.buzzing;
    const b = this.buzzerLine;
    if (!state || !b) return;
    const { beepOnMs, beepOffMs } = this.o.config().buzzer;
    state.timer = this.o.clock.setTimeout(() => {
      if (this.buzzing !== state) return;
      state.level = !state.level;
      try {
        this.write(b, state.level);
      } catch {
        this.buzzing = null;
        return;
      }
      this.beep();
    }, state.level ? beepOnMs : beepOffMs);
  }

  buzzerState(): { on: boolean; pattern: BuzzerPattern | null; fault: string | null } {
    return { on: this.buzzing !== null, pattern: this.buzzing?.pattern ?? null, fault: this.buzzerLine?.fault ?? null };
  }
}
