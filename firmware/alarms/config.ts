// The installation's alarm settings (the `alarms` section of the config).
// Which lines exist, and on which chip, is the board profile's business
// (gpio.alarmInputs, gpio.relays, gpio.buzzer); this says how they are used.
import { array, boolean, int, nullable, object, oneOf, string, type Infer } from '../core/schema.js';
import { weeklyScheduleSchema } from '../linkage/schedule.js';

const lineName = string({ min: 1, max: 64 });

export const alarmsConfigSchema = object({
  inputs: array(
    object({
      input: lineName.describe("the board profile's name of the line (gpio.alarmInputs[].name)"),
      name: string({ max: 64 }).default('').describe('what the installer calls it ("Front door"); empty: the line name'),
      enabled: boolean().default(true),
      contact: oneOf(['no', 'nc'] as const)
        .default('no')
        .describe('no: normally open, alarm when the contact closes; nc: normally closed, alarm when it opens (or the wire is cut)'),
      debounceMs: int({ min: 0, max: 10_000 }).default(50).describe('a change counts once it has held this long'),
      schedule: nullable(weeklyScheduleSchema)
        .default(null)
        .describe('when the input is armed in "auto" mode; null: always'),
    }),
    { max: 64 },
  ).default([]),
  relays: array(
    object({
      relay: lineName.describe("the board profile's name of the line (gpio.relays[].name)"),
      mode: oneOf(['latched', 'momentary'] as const).default('latched').describe('momentary: on turns itself off after pulseMs'),
      pulseMs: int({ min: 50, max: 3_600_000 }).default(2000),
    }),
    { max: 64 },
  ).default([]),
  modules: array(
    object({
      // 24: "<id>.out32" must fit the 32 characters a linkage rule's input or output name may have.
      id: string({ min: 1, max: 24, pattern: /^[a-z0-9][a-z0-9_-]*$/ }).describe('its lines are <id>.in1..N and <id>.out1..N'),
      bus: string({ min: 1, max: 32 }).describe('RS-485 line name from the board profile'),
      address: int({ min: 1, max: 247 }).describe('Modbus RTU device address, as set on the module'),
      baudRate: int({ min: 1200, max: 115_200 }).default(9600),
      inputs: int({ min: 0, max: 32 }).default(8).describe('discrete inputs 0..N-1 become alarm inputs'),
      outputs: int({ min: 0, max: 32 }).default(8).describe('coils 0..N-1 become relays'),
      pollMs: int({ min: 20, max: 60_000 }).default(100).describe('how often the inputs are read'),
    }),
    { max: 32 },
  )
    .default([])
    .describe('Modbus RTU alarm I/O modules on the RS-485 lines'),
  buzzer: object({
    beepOnMs: int({ min: 20, max: 10_000 }).default(200),
    beepOffMs: int({ min: 20, max: 10_000 }).default(800),
  }),
});

export type AlarmsConfig = Infer<typeof alarmsConfigSchema>;
export type InputConfig = AlarmsConfig['inputs'][number];
export type RelayConfig = AlarmsConfig['relays'][number];
export type ModuleConfig = AlarmsConfig['modules'][number];
