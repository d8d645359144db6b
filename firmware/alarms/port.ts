// The GPIO layer the AlarmService stands on. The firmware's implementation is
// kernel-gpio.ts (drivers/gpio); host tests put a stand-in that behaves like
// the kernel (edge events with timestamps and sequence numbers) in its place.
import type { ModuleStatus } from './types.js';

/** One board line as the service asks for it. Values are logical: active-low is the kernel's business. */
export interface PortLine {
  /** The board's name for the line (in1, relay1...). */
  name: string;
  line: number;
  activeLow: boolean;
}

export interface PortInputLine extends PortLine {
  /** Debounce period asked of the kernel, in microseconds (0: none). */
  debounceUs: number;
  /** Ask for the pin's pull-up (bias), so an open contact reads inactive on an active-low input. */
  pullUp: boolean;
}

/** One edge of an input line, as the kernel reports it. */
export interface PortEdge {
  /** The line's logical value after the edge (rising: true). */
  value: boolean;
  /** CLOCK_MONOTONIC nanoseconds. */
  timestampNs: bigint;
  /** Sequence number over the whole request, and of this line. */
  seqno: number;
  lineSeqno: number;
}

export interface InputHandlers {
  edge(name: string, edge: PortEdge): void;
  /** The lines are gone for good (chip removed, fd failed); no more edges will come. */
  error(err: Error): void;
  /**
   * The lines cannot be read for now (a Modbus module that stopped
   * answering): why; null once they can again. No edges come meanwhile.
   */
  unavailable?(reason: string | null): void;
}

/** Input lines of one chip, requested together with edge events on both edges. */
export interface InputGroup {
  /** True when the kernel debounces every line as asked; false: the service must. */
  readonly kernelDebounce: boolean;
  /** Each line's current logical value, by name. */
  values(): Map<string, boolean>;
  close(): Promise<void>;
}

/** Output lines of one chip, requested together. */
export interface OutputGroup {
  set(name: string, value: boolean): void;
  get(name: string): boolean;
  close(): void;
  /** Why the lines cannot be driven for now (writes are kept and applied when they can), or null. */
  unavailable?(): string | null;
}

export interface AlarmGpio {
  /** Throws (SysError ENOENT, EBUSY...) when the chip or a line cannot be had. */
  openInputs(chip: string, lines: readonly PortInputLine[], handlers: InputHandlers): Promise<InputGroup>;
  /** Every line starts at its `initial` logical value. */
  openOutputs(chip: string, lines: readonly (PortLine & { initial: boolean })[]): Promise<OutputGroup>;
  /** Releases what the port itself holds (its event thread). */
  close?(): Promise<void>;
  /** What `alarm` and `alarmFault` events of a chip's lines give as their source; 'gpio' when absent. */
  sourceOf?(chip: string): string;
  /** The remote I/O modules behind the port, for status. */
  modules?(): ModuleStatus[];
}
