// The bus events of the alarm service, added to BusEvents by augmentation.
// The `alarm` event itself (armed inputs only) is the core's.
import type { ArmMode, BuzzerPattern, ModuleState } from './types.js';

declare module '../core/bus.js' {
  interface BusEvents {
    /** An alarm input's contact changed (debounced); reported whether armed or not. */
    alarmInput: { input: string; active: boolean; armed: boolean; at: number };
    /** An input was armed or disarmed, by hand or by its schedule. */
    alarmArmed: { input: string; armed: boolean; mode: ArmMode; by: 'hand' | 'schedule'; at: number };
    /** An alarm line or output failed (chip removed, line busy): the input or output is out of service. */
    alarmFault: { source: string; line: string; error: string; at: number };
    /** A line reported by `alarmFault` works again (a Modbus module answers again). */
    alarmRestored: { source: string; line: string; at: number };
    /**
     * A Modbus I/O module answered for the first time or again (online), or
     * stopped answering (offline; `detail` says why). Shaped like
     * `cameraState` and `diskState`; `previous` is null at the first report.
     */
    alarmModuleState: { module: string; bus: string; address: number; state: ModuleState; previous: ModuleState | null; at: number; detail?: string };
    relayState: { relay: string; on: boolean; at: number };
    buzzerState: { on: boolean; pattern: BuzzerPattern | null; at: number };
  }
}
