// The virtual board's alarm scenario on the host: the AlarmService over a
// stand-in of the GPIO character device (the host kernel has no GPIO chip;
// test/drivers/gpio/gpio-sim.test.ts runs the same scenario on gpio-sim),
// the linkage engine with the box's real targets, and one rule: pull the
// input, the rule fires, the relay line changes.
import t from 'tap';
import { AlarmService, alarmsConfigSchema } from '../../../firmware/alarms/index.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger } from '../../../firmware/core/log.js';
import { boxTargets } from '../../../firmware/linkage/box-targets.js';
import { LinkageService } from '../../../firmware/linkage/engine.js';
import { linkageSchema } from '../../../firmware/linkage/rules.js';
import { GpioStandIn } from './fixtures/gpio-stand-in.js';

const CHIP = '/dev/gpiochip0';
const tick = () => new Promise((r) => setImmediate(r));

t.test('pull an input: the rule fires and the relay line changes; disarmed, nothing does', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const bus = new EventBus();
  const log = new Logger('t', { sink: () => {} });
  const gpio = new GpioStandIn(clock, { chips: { [CHIP]: 8 } });
  const line = (name: string, n: number) => ({ name, chip: CHIP, line: n, activeLow: false });
  const alarms = new AlarmService({
    bus,
    clock,
    log,
    gpio,
    board: () => ({ alarmInputs: [line('alarm-in', 4)], relays: [line('alarm-relay', 5)], buzzer: line('lamp', 3) }),
    config: () => alarmsConfigSchema.parse({ inputs: [{ input: 'alarm-in', name: 'Back door', debounceMs: 20 }], relays: [{ relay: 'alarm-relay', mode: 'momentary', pulseMs: 1500 }] }),
    timezone: () => 'UTC',
  });
  const rules = linkageSchema.parse({ rules: [{ id: 'door', name: 'Back door', trigger: { type: 'alarm', input: 'alarm-in' }, actions: [{ type: 'relay', output: 'alarm-relay', mode: 'follow', seconds: 2 }] }] }).rules;
  const fired: BusEvents['linkage'][] = [];
  bus.on('linkage', (e) => fired.push(e));
  const linkage = new LinkageService({ bus, clock, log, rules: () => rules, timezone: () => 'UTC', targets: boxTargets({ bus, clock, channels: () => [], alarms, mqttEnabled: false }) });
  await alarms.start();
  await linkage.start();
  t.teardown(async () => {
    await linkage.stop();
    await alarms.stop();
  });
  t.equal(gpio.level(CHIP, 5), false, 'the relay line is low at rest');

  gpio.pull(CHIP, 4, true);
  await clock.advance(20);
  for (let i = 0; i < 5; i++) await tick();
  t.match(fired, [{ rule: 'door', phase: 'start', results: [{ action: 'relay', target: 'alarm-relay', ok: true }] }], 'the rule fired and says what it did');
  t.equal(gpio.level(CHIP, 5), true, 'the relay line went high');
  gpio.pull(CHIP, 4, false);
  await clock.advance(20);
  for (let i = 0; i < 5; i++) await tick();
  t.equal(gpio.level(CHIP, 5), true, 'follow: still on for its 2 s after the alarm cleared');
  await clock.advance(2000);
  for (let i = 0; i < 5; i++) await tick();
  t.equal(gpio.level(CHIP, 5), false, 'then off');

  alarms.arm('alarm-in', 'disarmed');
  const before = fired.length;
  gpio.pull(CHIP, 4, true);
  await clock.advance(20);
  for (let i = 0; i < 5; i++) await tick();
  t.equal(fired.length, before, 'a disarmed input sets off no rule');
  t.equal(gpio.level(CHIP, 5), false, 'and the relay stays off');
});
