// AlarmGpio for Modbus I/O modules: the chip `modbus:<id>` is module <id>,
// line n its input or coil n (0-based). Polled values become edges (the
// service debounces them: kernelDebounce false), relays become coil writes.
// A module that stops answering is reported by ModbusIoService on the bus;
// here its lines are `unavailable` (no edges) until it is back, and writes
// are kept and applied when it answers again, so nothing here throws for it.
import type { BoardProfile } from '../board/profile.js';
import type { ModuleConfig } from './config.js';
import { MODBUS_CHIP_PREFIX, moduleInputName, moduleOutputName, type ModbusIoService, type ModbusModule } from './modbus-io.js';
import type { AlarmGpio, InputGroup, InputHandlers, OutputGroup, PortInputLine, PortLine } from './port.js';
import type { ModuleStatus } from './types.js';

type BoardLine = BoardProfile['gpio']['alarmInputs'][number];

/** The modules' lines as board lines, to add to the board's own for the AlarmService. */
export function moduleBoardLines(modules: readonly ModuleConfig[]): { alarmInputs: BoardLine[]; relays: BoardLine[] } {
  const line = (name: string, chip: string, n: number): BoardLine => ({ name, chip, line: n, activeLow: false });
  return {
    alarmInputs: modules.flatMap((m) => Array.from({ length: m.inputs }, (_, i) => line(moduleInputName(m.id, i + 1), `${MODBUS_CHIP_PREFIX}${m.id}`, i))),
    relays: modules.flatMap((m) => Array.from({ length: m.outputs }, (_, i) => line(moduleOutputName(m.id, i + 1), `${MODBUS_CHIP_PREFIX}${m.id}`, i))),
  };
}

export class ModbusAlarmGpio implements AlarmGpio {
  #starting: Promise<void> | undefined;

  constructor(private readonly io: ModbusIoService) {}

  async #module(chip: string): Promise<ModbusModule> {
    if (!chip.startsWith(MODBUS_CHIP_PREFIX)) throw new Error(`"${chip}" is not a Modbus module (modbus:<id>)`);
    // The modules run while the alarm service has their lines open: started with the first, stopped by close().
    if (!this.io.running) {
      this.#starting ??= this.io.start().finally(() => (this.#starting = undefined));
      await this.#starting;
    }
    return this.io.module(chip.slice(MODBUS_CHIP_PREFIX.length));
  }

  async openInputs(chip: string, lines: readonly PortInputLine[], handlers: InputHandlers): Promise<InputGroup> {
    const m = await this.#module(chip);
    for (const l of lines) if (!(l.line >= 0 && l.line < m.cfg.inputs)) throw new RangeError(`module ${m.cfg.id} has no input ${l.line + 1}`);
    const byIndex = new Map(lines.map((l) => [l.line, l]));
    const lineSeqno = new Map<string, number>();
    let seqno = 0;
    const off = m.onInput((index, raw) => {
      const l = byIndex.get(index);
      if (!l) return;
      const n = (lineSeqno.get(l.name) ?? 0) + 1;
      lineSeqno.set(l.name, n);
      // The time the poll saw it, on the monotonic clock the port's timestamps use.
      const timestampNs = process.hrtime.bigint();
      handlers.edge(l.name, { value: raw !== l.activeLow, timestampNs, seqno: ++seqno, lineSeqno: n });
    });
    const offState = m.onState((reason) => handlers.unavailable?.(reason));
    // Lost before its lines were opened (no answer at start, no such RS-485 line).
    const down = m.unavailable();
    if (down !== null) handlers.unavailable?.(down);
    return {
      kernelDebounce: false,
      values: () => {
        const v = m.inputs;
        return v ? new Map(lines.map((l) => [l.name, v[l.line] !== l.activeLow])) : new Map();
      },
      close: async () => {
        off();
        offState();
      },
    };
  }

  async openOutputs(chip: string, lines: readonly (PortLine & { initial: boolean })[]): Promise<OutputGroup> {
    const m = await this.#module(chip);
    for (const l of lines) if (!(l.line >= 0 && l.line < m.cfg.outputs)) throw new RangeError(`module ${m.cfg.id} has no output ${l.line + 1}`);
    const byName = new Map(lines.map((l) => [l.name, l]));
    const lineOf = (name: string) => {
      const l = byName.get(name);
      if (!l) throw new RangeError(`no output line "${name}" on ${chip}`);
      return l;
    };
    for (const l of lines) m.setCoil(l.line, l.initial !== l.activeLow);
    return {
      set: (name, value) => {
        const l = lineOf(name);
        m.setCoil(l.line, value !== l.activeLow);
      },
      get: (name) => {
        const l = lineOf(name);
        return m.wanted[l.line] !== l.activeLow;
      },
      close: () => {},
      unavailable: () => m.unavailable(),
    };
  }

  /** `modbus:<id>`: which module, not just "a module". */
  sourceOf(chip: string): string {
    return chip;
  }

  modules(): ModuleStatus[] {
    return this.io.status();
  }

  async close(): Promise<void> {
    await this.#starting?.catch(() => {});
    await this.io.stop();
  }
}
