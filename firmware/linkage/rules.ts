import { array, boolean, int, literal, nullable, object, oneOf, string, tagged, type Infer } from '../core/schema.js';
import { weeklyScheduleSchema } from './schedule.js';

const id = string({ min: 1, max: 32, pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/ });
/** A channel id, or "*" for every channel. */
const channelRef = string({ min: 1, max: 32, pattern: /^(\*|[a-z0-9][a-z0-9_-]*)$/ });
const seconds = (max: number) => int({ min: 0, max });

/** What sets a rule off. Each trigger is active for a while: it starts and it ends. */
export const triggerSchema = tagged('type', {
  alarm: object({
    type: literal('alarm'),
    input: id.describe('alarm input name (board profile or RS-485 module), or an ONVIF input as "<channel>:<token>"'),
  }),
  motion: object({ type: literal('motion'), channel: channelRef }),
  tamper: object({ type: literal('tamper'), channel: channelRef }),
  videoLoss: object({ type: literal('videoLoss'), channel: channelRef }),
  cameraOffline: object({ type: literal('cameraOffline'), channel: channelRef }),
  diskFailed: object({ type: literal('diskFailed'), disk: string({ min: 1, max: 32 }).default('*') }),
  diskFull: object({ type: literal('diskFull') }),
});
export type Trigger = Infer<typeof triggerSchema>;

/** What a rule does. Times are counted from the trigger's start or end as each says. */
export const actionSchema = tagged('type', {
  record: object({
    type: literal('record'),
    channels: array(channelRef, { max: 64 }),
    preSec: seconds(300).default(5),
    postSec: seconds(3600).default(30),
  }),
  lock: object({
    type: literal('lock'),
    channels: array(channelRef, { max: 64 }),
    preSec: seconds(3600).default(30),
    postSec: seconds(3600).default(60),
    expiresHours: nullable(int({ min: 1, max: 24 * 365 })).default(null).describe('null: until unlocked by hand'),
  }),
  ptzPreset: object({ type: literal('ptzPreset'), dome: id, preset: int({ min: 1, max: 255 }) }),
  ptzTour: object({ type: literal('ptzTour'), dome: id, tour: id }),
  relay: object({
    type: literal('relay'),
    output: id,
    mode: oneOf(['momentary', 'follow', 'latch'] as const)
      .default('momentary')
      .describe('momentary: on for `seconds`; follow: on while the trigger lasts, then `seconds` more; latch: on until reset by hand'),
    seconds: seconds(3600).default(5),
  }),
  buzzer: object({ type: literal('buzzer'), pattern: oneOf(['continuous', 'beep'] as const).default('beep'), seconds: seconds(600).default(10) }),
  mqtt: object({ type: literal('mqtt'), topic: string({ min: 1, max: 128, pattern: /^[A-Za-z0-9_\-/]+$/ }).describe('under <baseTopic>/<deviceId>/') }),
  snapshot: object({ type: literal('snapshot'), channels: array(channelRef, { max: 64 }) }),
  popup: object({ type: literal('popup'), channel: channelRef, seconds: seconds(600).default(30) }),
  webhook: object({
    type: literal('webhook'),
    url: string({ min: 8, max: 512, pattern: /^https?:\/\/[^\s]+$/ }),
    onEnd: boolean().default(false).describe('also call it when the trigger ends'),
  }),
});
export type Action = Infer<typeof actionSchema>;

export const ruleSchema = object({
  id,
  name: string({ min: 1, max: 64 }),
  enabled: boolean().default(true),
  trigger: triggerSchema,
  schedule: nullable(weeklyScheduleSchema).default(null).describe('when the rule may fire; null: always'),
  actions: array(actionSchema, { max: 16 }),
});
export type Rule = Infer<typeof ruleSchema>;

export const linkageSchema = object({ rules: array(ruleSchema, { max: 128 }).default([]) });
