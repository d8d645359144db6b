export { AlarmService, type AlarmServiceOptions } from './service.js';
export { KernelAlarmGpio } from './kernel-gpio.js';
export { alarmsConfigSchema, type AlarmsConfig, type InputConfig, type RelayConfig } from './config.js';
export type { AlarmGpio, InputGroup, InputHandlers, OutputGroup, PortEdge, PortInputLine, PortLine } from './port.js';
export type { ArmMode, BuzzerPattern, InputStatus, RelayStatus } from './types.js';
import './events.js';
