// The AlarmService on the host, against a stand-in for the GPIO character
// device (fixtures/gpio-stand-in.ts: the host kernel has no GPIO chips; the
// virtual-board test, test/drivers/gpio/gpio-sim.test.ts, runs the same
// service on gpio-sim). Time is a ManualClock.
import t from 'tap';
import { AlarmService, alarmsConfigSchema, type AlarmsConfig } from '../../../firmware/alarms/index.js';
import type { BoardProfile } from '../../../firmware/board/profile.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { GpioStandIn } from './fixtures/gpio-stand-in.js';

const CHIP = '/dev/gpiochip0';
const CHIP2 = '/dev/gpiochip1';
// Monday 5 January 2026, 12:00 UTC.
const MONDAY_NOON = Date.UTC(2026, 0, 5, 12, 0, 0);

const line = (name: string, n: number, activeLow = false, chip = CHIP) => ({ name, chip, line: n, activeLow });
const BOARD: BoardProfile['gpio'] = {
  alarmInputs: [line('in1', 0), line('in2', 1, true), line('in3', 2)],
  relays: [line('relay1', 4), line('relay2', 5)],
  buzzer: line('buzzer', 6),
};

function setup(opts: { config?: unknown; board?: BoardProfile['gpio']; kernelDebounce?: boolean; start?: number; chips?: Record<string, number>; timezone?: string } = {}) {
  const clock = new ManualClock(opts.start ?? MONDAY_NOON);
  const bus = new EventBus();
  const logs: LogRecord[] = [];
  const log = new Logger('alarms', { sink: (r) => logs.push(r), level: 'debug' });
  const gpio = new GpioStandIn(clock, { chips: opts.chips ?? { [CHIP]: 8 }, kernelDebounce: opts.kernelDebounce });
  // in2 is active-low: a pull-up holds its pin high while the contact is open.
  if (!opts.chips) gpio.pull(CHIP, 1, true);
  const config: AlarmsConfig = alarmsConfigSchema.parse(opts.config ?? {});
  const svc = new AlarmService({ bus, clock, log, gpio, board: () => opts.board ?? BOARD, config: () => config, timezone: () => opts.timezone ?? 'UTC' });
  const events: { name: keyof BusEvents; e: Record<string, unknown> }[] = [];
  for (const name of ['alarm', 'alarmInput', 'alarmArmed', 'alarmFault', 'relayState', 'buzzerState'] as const) {
    bus.on(name, (e) => events.push({ name, e: e as Record<string, unknown> }));
  }
  const of = (name: keyof BusEvents) => events.filter((x) => x.name === name).map((x) => x.e);
  return { clock, bus, gpio, svc, events, of, logs };
}

/** Let the stand-in's edge deliveries (microtasks) run. */
const tick = () => new Promise((r) => setImmediate(r));

t.test('normally-open input: alarm when the contact closes, cleared when it opens', async (t) => {
  const { svc, gpio, clock, of } = setup({ config: { inputs: [{ input: 'in1', name: 'Front door', debounceMs: 50 }] } });
  await svc.start();
  t.match(svc.inputs()[0], { input: 'in1', name: 'Front door', contact: 'no', active: false, armed: true, alarm: false, fault: null });
  gpio.pull(CHIP, 0, true);
  await clock.advance(49);
  await tick();
  t.same(of('alarm'), [], 'not before the debounce period has passed');
  await clock.advance(1);
  await tick();
  t.match(of('alarm'), [{ source: 'gpio', input: 'in1', active: true, at: MONDAY_NOON + 50 }]);
  t.match(of('alarmInput'), [{ input: 'in1', active: true, armed: true }]);
  gpio.pull(CHIP, 0, false);
  await clock.advance(50);
  await tick();
  t.match(of('alarm'), [{ active: true }, { active: false }]);
  t.equal(svc.inputs()[0].alarm, false);
  await svc.stop();
});

t.test('normally-closed input on an active-low line: alarm when the contact opens', async (t) => {
  // in2 is active-low on the board: the contact pulls the pin low when closed.
  const { svc, gpio, clock, of } = setup({ config: { inputs: [{ input: 'in2', contact: 'nc', debounceMs: 0 }] } });
  gpio.pull(CHIP, 1, false); // closed contact: pin low, logically active
  await svc.start();
  t.match(svc.inputs()[1], { input: 'in2', contact: 'nc', active: false, alarm: false }, 'closed NC contact: no alarm');
  t.same(of('alarm'), []);
  gpio.pull(CHIP, 1, true); // contact opens (or the wire is cut)
  await tick();
  t.match(of('alarm'), [{ input: 'in2', active: true }]);
  gpio.pull(CHIP, 1, false);
  await tick();
  t.match(of('alarm'), [{ active: true }, { input: 'in2', active: false }]);
  await clock.advance(10);
  await svc.stop();
});

t.test('an active-low input nobody drives idles inactive: the service asks for its pull-up', async (t) => {
  const { svc, of } = setup({ chips: { [CHIP]: 8 } });
  await svc.start();
  t.match(svc.inputs()[1], { input: 'in2', active: false, alarm: false });
  t.same(of('alarm'), []);
  await svc.stop();
});

t.test('an NC input already open at start raises its alarm at start', async (t) => {
  const { svc, of } = setup({ config: { inputs: [{ input: 'in3', contact: 'nc' }] } });
  await svc.start();
  t.match(of('alarm'), [{ input: 'in3', active: true }]);
  await svc.stop();
});

t.test('contact bounce: the kernel debounces; one change reported', async (t) => {
  const { svc, gpio, clock, of } = setup({ config: { inputs: [{ input: 'in1', debounceMs: 30 }] } });
  await svc.start();
  for (let i = 0; i < 7; i++) {
    gpio.pull(CHIP, 0, i % 2 === 0);
    await clock.advance(3);
  }
  await clock.advance(40);
  await tick();
  t.match(of('alarmInput'), [{ input: 'in1', active: true }], 'seven changes in 21 ms, ending closed: one');
  // A glitch shorter than the period, back to where it was: nothing at all.
  gpio.pull(CHIP, 0, false);
  await clock.advance(10);
  gpio.pull(CHIP, 0, true);
  await clock.advance(40);
  await tick();
  t.equal(of('alarmInput').length, 1);
  await svc.stop();
});

t.test('contact bounce: software debounce where the port cannot debounce', async (t) => {
  const { svc, gpio, clock, of } = setup({ kernelDebounce: false, config: { inputs: [{ input: 'in1', debounceMs: 30 }] } });
  await svc.start();
  for (let i = 0; i < 7; i++) {
    gpio.pull(CHIP, 0, i % 2 === 0);
    await tick();
    await clock.advance(3);
  }
  t.same(of('alarmInput'), [], 'nothing while it bounces');
  await clock.advance(30);
  await tick();
  t.match(of('alarmInput'), [{ active: true }], 'one change once it held 30 ms');
  gpio.pull(CHIP, 0, false);
  await tick();
  await clock.advance(10);
  gpio.pull(CHIP, 0, true);
  await tick();
  await clock.advance(60);
  t.equal(of('alarmInput').length, 1, 'a 10 ms glitch back to the same level: nothing');
  await svc.stop();
});

t.test('arm and disarm by hand: a disarmed input reports state but raises no alarm', async (t) => {
  const { svc, gpio, clock, of } = setup({ config: { inputs: [{ input: 'in1', debounceMs: 0 }] } });
  await svc.start();
  svc.arm('in1', 'disarmed');
  t.match(of('alarmArmed'), [{ input: 'in1', armed: false, mode: 'disarmed', by: 'hand' }]);
  gpio.pull(CHIP, 0, true);
  await tick();
  t.match(of('alarmInput'), [{ input: 'in1', active: true, armed: false }]);
  t.same(of('alarm'), [], 'no alarm while disarmed');
  t.match(svc.inputs()[0], { active: true, armed: false, alarm: false, mode: 'disarmed' });
  svc.arm('in1', 'armed');
  t.match(of('alarm'), [{ input: 'in1', active: true }], 'arming with the contact in alarm raises it');
  svc.arm('in1', 'disarmed');
  t.match(of('alarm'), [{ active: true }, { input: 'in1', active: false }], 'disarming clears it');
  svc.arm('*', 'armed');
  t.ok(svc.inputs().every((i) => i.armed && i.mode === 'armed'), "'*' arms every input");
  t.throws(() => svc.arm('nope', 'armed'), /unknown alarm input "nope"/);
  await clock.advance(1);
  // A hand-set mode survives a restart of the service.
  await svc.stop();
  await svc.start();
  t.equal(svc.inputs()[0].mode, 'armed');
  await svc.stop();
});

t.test('weekly schedule in a zone the box does not know (an old config): by the UTC clock, one warning', async (t) => {
  const night = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00' }];
  const { svc, clock, of, logs } = setup({ start: Date.UTC(2026, 0, 5, 21, 59, 0), timezone: 'Mars/Base', config: { inputs: [{ input: 'in1', debounceMs: 0, schedule: night }] } });
  await svc.start();
  t.equal(svc.inputs()[0].armed, false, 'Monday 21:59 UTC: disarmed');
  await clock.advance(60_000);
  t.match(of('alarmArmed'), [{ input: 'in1', armed: true, by: 'schedule', at: Date.UTC(2026, 0, 5, 22, 0, 0) }], 'armed at 22:00 UTC');
  await clock.advance(3 * 3600_000);
  t.match(logs.filter((r) => r.level === 'warn'), [{ timezone: 'Mars/Base', msg: /time zone/ }]);
  t.equal(logs.filter((r) => r.level === 'warn').length, 1, 'said once');
  await svc.stop();
});

t.test('weekly schedule: armed at night on weekdays, by the clock', async (t) => {
  const night = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00' }];
  const { svc, gpio, clock, of } = setup({
    start: Date.UTC(2026, 0, 5, 21, 58, 30), // Monday 21:58:30
    config: { inputs: [{ input: 'in1', debounceMs: 0, schedule: night }] },
  });
  await svc.start();
  t.equal(svc.inputs()[0].armed, false, 'Monday 21:58: disarmed');
  gpio.pull(CHIP, 0, true);
  await tick();
  gpio.pull(CHIP, 0, false);
  await tick();
  t.same(of('alarm'), [], 'a door opened in the evening is no alarm');
  await clock.advance(60_000); // 21:59:30
  t.same(of('alarmArmed'), []);
  await clock.advance(30_000); // 22:00:00
  t.match(of('alarmArmed'), [{ input: 'in1', armed: true, mode: 'auto', by: 'schedule', at: Date.UTC(2026, 0, 5, 22, 0, 0) }]);
  gpio.pull(CHIP, 0, true);
  await tick();
  t.match(of('alarm'), [{ input: 'in1', active: true }], 'armed by schedule: alarm');
  await clock.advance(8 * 3600_000); // Tuesday 06:00
  t.match(of('alarmArmed'), [{ armed: true }, { armed: false, by: 'schedule' }]);
  t.match(of('alarm'), [{ active: true }, { active: false }], 'disarming at 06:00 clears the raised alarm');
  svc.arm('in1', 'armed');
  await clock.advance(3600_000);
  t.equal(svc.inputs()[0].armed, true, 'armed by hand stays armed outside the schedule');
  svc.arm('in1', 'auto');
  t.equal(svc.inputs()[0].armed, false, 'back to the schedule');
  await svc.stop();
  t.equal(clock.pending(), 0, 'no timer left behind');
});

t.test('relays: momentary pulse timing and latched state', async (t) => {
  const { svc, gpio, clock, of } = setup({ config: { relays: [{ relay: 'relay1', mode: 'momentary', pulseMs: 2000 }] } });
  await svc.start();
  t.same(svc.outputs(), ['relay1', 'relay2']);
  t.equal(gpio.level(CHIP, 4), false, 'relays start off');
  await svc.relay('relay1', true);
  t.equal(gpio.level(CHIP, 4), true);
  await clock.advance(1999);
  t.equal(gpio.level(CHIP, 4), true, 'still on at 1999 ms');
  await clock.advance(1);
  t.equal(gpio.level(CHIP, 4), false, 'off at 2000 ms');
  t.match(of('relayState'), [{ relay: 'relay1', on: true }, { relay: 'relay1', on: false, at: MONDAY_NOON + 2000 }]);

  await svc.relay('relay2', true);
  await clock.advance(60_000);
  t.equal(gpio.level(CHIP, 5), true, 'a latched relay stays on');
  t.match(svc.relays(), [{ relay: 'relay1', mode: 'momentary', on: false }, { relay: 'relay2', mode: 'latched', on: true, fault: null }]);
  await svc.relay('relay2', true, 500);
  await clock.advance(500);
  t.equal(gpio.level(CHIP, 5), false, 'an explicit pulse on a latched relay');

  await svc.relay('relay1', true);
  await clock.advance(1000);
  await svc.relay('relay1', false);
  t.equal(gpio.level(CHIP, 4), false, 'switched off early');
  await svc.relay('relay1', true);
  await clock.advance(1500);
  t.equal(gpio.level(CHIP, 4), true, 'the first pulse timer was cancelled: the new pulse runs its full time');
  await clock.advance(500);
  t.equal(gpio.level(CHIP, 4), false);
  await t.rejects(svc.relay('relay9', true), /unknown relay "relay9"/);
  await svc.relay('relay2', true);
  await svc.stop();
  t.equal(gpio.level(CHIP, 5), false, 'stop releases relays in the off state');
  t.equal(clock.pending(), 0);
});

t.test('buzzer patterns', async (t) => {
  const { svc, gpio, clock, of } = setup({ config: { buzzer: { beepOnMs: 200, beepOffMs: 800 } } });
  await svc.start();
  await svc.buzzer('continuous', true);
  await clock.advance(5000);
  t.equal(gpio.level(CHIP, 6), true, 'continuous: on');
  await svc.buzzer('beep', true);
  const samples: boolean[] = [];
  for (let i = 0; i < 20; i++) {
    samples.push(gpio.level(CHIP, 6));
    await clock.advance(100);
  }
  // 200 ms on, 800 ms off, twice over 2 s.
  t.same(samples.map((s) => (s ? 1 : 0)).join(''), '11000000001100000000');
  t.same(svc.buzzerState(), { on: true, pattern: 'beep', fault: null });
  await svc.buzzer('beep', false);
  t.equal(gpio.level(CHIP, 6), false);
  t.equal(clock.pending() > 0, true, 'the schedule timer only');
  t.match(of('buzzerState'), [{ on: true, pattern: 'continuous' }, { on: true, pattern: 'beep' }, { on: false, pattern: null }]);
  await svc.buzzer('beep', false);
  t.equal(of('buzzerState').length, 3, 'silencing a silent buzzer reports nothing');
  await svc.stop();

  const none = setup({ board: { ...BOARD, buzzer: null } });
  await none.svc.start();
  await t.rejects(none.svc.buzzer('beep', true), /no buzzer/);
  await none.svc.stop();
});

t.test('a chip that vanishes: a clear error event, the service stays up', async (t) => {
  const board: BoardProfile['gpio'] = {
    alarmInputs: [line('in1', 0), line('x1', 0, false, CHIP2)],
    relays: [line('relay1', 4), line('xr', 1, false, CHIP2)],
    buzzer: null,
  };
  const { svc, gpio, clock, of, logs } = setup({ board, chips: { [CHIP]: 8, [CHIP2]: 4 }, config: { inputs: [{ input: 'in1', debounceMs: 0 }, { input: 'x1', debounceMs: 0 }] } });
  await svc.start();
  gpio.remove(CHIP2);
  await tick();
  t.match(of('alarmFault'), [{ source: 'gpio', line: 'x1', error: /the device is gone/ }]);
  t.match(svc.inputs()[1], { input: 'x1', fault: /the device is gone/, active: null });
  t.ok(logs.some((l) => l.level === 'error' && l.msg === 'alarm line out of service'));
  await t.rejects(svc.relay('xr', true), /ENODEV/, 'a relay on the removed chip: the write fails with ENODEV');
  t.match(of('alarmFault')[1], { line: 'xr', error: /ENODEV/ });
  await t.rejects(svc.relay('xr', true), /xr is out of service/, 'and is then out of service');
  gpio.pull(CHIP, 0, true);
  await tick();
  t.match(of('alarm'), [{ input: 'in1', active: true }], 'inputs on the other chip still work');
  await svc.relay('relay1', true);
  t.equal(gpio.level(CHIP, 4), true, 'and so do its relays');
  await clock.advance(10);
  await svc.stop();
});

t.test('a chip missing at start: fault events, start still succeeds', async (t) => {
  const { svc, of } = setup({ chips: {} });
  await svc.start();
  t.same(of('alarmFault').map((e) => e.line), ['in1', 'in2', 'in3', 'relay1', 'relay2', 'buzzer']);
  t.match(of('alarmFault')[0], { error: /open on \/dev\/gpiochip0: ENOENT/ });
  t.match(svc.inputs(), [{ fault: /ENOENT/ }, {}, {}]);
  await t.rejects(svc.relay('relay1', true), /out of service/);
  await t.rejects(svc.buzzer('continuous', true), /out of service/);
  await svc.stop();
});

t.test('lost edges, unknown config names, disabled inputs, restart', async (t) => {
  const { svc, gpio, clock, logs, of } = setup({
    config: {
      inputs: [{ input: 'in1', debounceMs: 0 }, { input: 'in3', enabled: false }, { input: 'in9' }],
      relays: [{ relay: 'relay7' }],
    },
  });
  await svc.start();
  t.ok(logs.some((l) => l.msg === 'alarm input not on this board' && l.input === 'in9'));
  t.ok(logs.some((l) => l.msg === 'relay not on this board' && l.relay === 'relay7'));
  t.match(svc.inputs()[2], { input: 'in3', enabled: false, active: null });
  gpio.pull(CHIP, 0, true);
  await tick();
  gpio.dropNext = 1;
  gpio.pull(CHIP, 0, false); // lost in the kernel's full FIFO
  gpio.pull(CHIP, 0, true);
  await tick();
  t.ok(logs.some((l) => l.msg === 'alarm input lost edges' && l.missed === 1), 'a gap in line sequence numbers is logged');
  t.equal(of('alarm').length, 1, 'the value did not change as far as the service knows');
  await clock.advance(1);
  await svc.stop();
  await svc.stop(); // twice is fine
  t.equal(gpio.closed, 2, 'input and output requests released');
  await svc.start();
  t.match(svc.inputs()[0], { active: true, fault: null }, 'restarted: reads the current state');
  await svc.stop();
});

t.test('config schema: defaults and refusals', async (t) => {
  const c = alarmsConfigSchema.parse({ inputs: [{ input: 'in1' }], relays: [{ relay: 'relay1' }] });
  t.same(c.inputs[0], { input: 'in1', name: '', enabled: true, contact: 'no', debounceMs: 50, schedule: null });
  t.same(c.relays[0], { relay: 'relay1', mode: 'latched', pulseMs: 2000 });
  t.same(c.buzzer, { beepOnMs: 200, beepOffMs: 800 });
  t.throws(() => alarmsConfigSchema.parse({ inputs: [{ input: 'in1', contact: 'maybe' }] }), /contact/);
  t.throws(() => alarmsConfigSchema.parse({ relays: [{ relay: 'r', pulseMs: 5 }] }), /pulseMs/);
});
