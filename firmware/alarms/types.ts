/** auto: armed when the input's schedule says so; armed/disarmed: by hand, until set back to auto. */
export type ArmMode = 'auto' | 'armed' | 'disarmed';
export type BuzzerPattern = 'continuous' | 'beep';

export interface InputStatus {
  input: string;
  name: string;
  contact: 'no' | 'nc';
  enabled: boolean;
  /** The alarm condition of the contact (debounced); null before the first read or when faulted. */
  active: boolean | null;
  armed: boolean;
  mode: ArmMode;
  /** An alarm is raised now. */
  alarm: boolean;
  /** Why the line does not work: out of service for good, or its Modbus module is silent (its last value stands until it answers). */
  fault: string | null;
}

export interface RelayStatus {
  relay: string;
  mode: 'latched' | 'momentary';
  on: boolean;
  /** Why the line does not work; for a silent Modbus module, writes are kept and applied when it answers. */
  fault: string | null;
}

export type ModuleState = 'online' | 'offline';

/** A Modbus I/O module as the alarm service reports it. */
export interface ModuleStatus {
  id: string;
  bus: string;
  address: number;
  /** null until it has answered or been reported lost. */
  online: boolean | null;
  /** When `online` last changed (wall-clock ms); null before. */
  since: number | null;
  /** Why it is offline; null while it answers. */
  error: string | null;
  /** The newest failed exchange and its time, kept after the module answers again: a flaky line shows here before the module is lost. */
  lastError: string | null;
  lastErrorAt: number | null;
  inputs: boolean[] | null;
  coils: boolean[];
  polls: number;
  failures: number;
}
