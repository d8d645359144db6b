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
  fault: string | null;
}

export interface RelayStatus {
  relay: string;
  mode: 'latched' | 'momentary';
  on: boolean;
  fault: string | null;
}
