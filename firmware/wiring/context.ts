import type { SharedLines } from '../../drivers/serial/index.js';
import type { BoardProfile } from '../board/profile.js';
import type { ConfigStore } from '../config/store.js';
import type { ControlCommands } from '../control/protocol.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Supervisor } from '../core/supervisor.js';
import type { MqttService } from '../mqtt/service.js';

/** What each wiring step gets from the composition root (firmware/main.ts). */
export interface Wiring {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  board: BoardProfile;
  config: ConfigStore;
  supervisor: Supervisor;
  /** Present when MQTT is enabled: services register their entities and commands on it. */
  mqtt?: MqttService;
  /** One bus per RS-485 line, shared by the PTZ domes and the Modbus alarm modules on it. */
  rs485Lines: SharedLines;
  /** Adds commands to the control socket (`dvr <group> ...`). */
  addCommands(commands: ControlCommands): void;
}
