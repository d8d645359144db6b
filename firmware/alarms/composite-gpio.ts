// One AlarmGpio over two: lines on chips named `modbus:<id>` go to the
// Modbus modules, every other chip to the kernel's GPIO character device.
// The AlarmService sees one port and needs no change for the modules.
import { MODBUS_CHIP_PREFIX } from './modbus-io.js';
import type { AlarmGpio, InputGroup, InputHandlers, OutputGroup, PortInputLine, PortLine } from './port.js';
import type { ModuleStatus } from './types.js';

export class CompositeAlarmGpio implements AlarmGpio {
  constructor(
    private readonly kernel: AlarmGpio,
    private readonly modbus: AlarmGpio,
  ) {}

  #port(chip: string): AlarmGpio {
    return chip.startsWith(MODBUS_CHIP_PREFIX) ? this.modbus : this.kernel;
  }

  openInputs(chip: string, lines: readonly PortInputLine[], handlers: InputHandlers): Promise<InputGroup> {
    return this.#port(chip).openInputs(chip, lines, handlers);
  }

  openOutputs(chip: string, lines: readonly (PortLine & { initial: boolean })[]): Promise<OutputGroup> {
    return this.#port(chip).openOutputs(chip, lines);
  }

  async close(): Promise<void> {
    await Promise.all([this.kernel.close?.(), this.modbus.close?.()]);
  }

  sourceOf(chip: string): string {
    return this.#port(chip).sourceOf?.(chip) ?? 'gpio';
  }

  modules(): ModuleStatus[] {
    return [...(this.kernel.modules?.() ?? []), ...(this.modbus.modules?.() ?? [])];
  }
}
