export { LinkageService, redactUrl, type ActionResult, type LinkageOptions, type LinkageTargets } from './engine.js';
export { actionSchema, linkageSchema, ruleSchema, triggerSchema, type Action, type Rule, type Trigger } from './rules.js';
export { inSchedule, localTime, weeklyScheduleSchema, type Day, type WeeklySchedule } from './schedule.js';
