export { AlarmService, type AlarmServiceOptions } from './service.js';
export { KernelAlarmGpio } from './kernel-gpio.js';
export { alarmsConfigSchema, type AlarmsConfig, type InputConfig, type ModuleConfig, type RelayConfig } from './config.js';
export { CompositeAlarmGpio } from './composite-gpio.js';
export { ModbusAlarmGpio, moduleBoardLines } from './modbus-gpio.js';
export { MODBUS_CHIP_PREFIX, ModbusIoService, ModbusModule, moduleInputName, moduleOutputName, type ModbusIoOptions } from './modbus-io.js';
export type { AlarmGpio, InputGroup, InputHandlers, OutputGroup, PortEdge, PortInputLine, PortLine } from './port.js';
export type { ArmMode, BuzzerPattern, InputStatus, ModuleState, ModuleStatus, RelayStatus } from './types.js';
import './events.js';
