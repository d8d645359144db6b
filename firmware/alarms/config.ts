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
  buzzer: object({
    beepOnMs: int({ min: 20, max: 10_000 }).default(200),
    beepOffMs: int({ min: 20, max: 10_000 }).default(800),
  }),
});

export type AlarmsConfig = Infer<typeof alarmsConfigSchema>;
export type InputConfig = AlarmsConfig['inputs'][number];
export type RelayConfig = AlarmsConfig['relays'][number];
