// PtzService over a pty pair with a simulated dome: tours and park follow
// the injected ManualClock; the bus itself runs in real time.
import t, { type Test } from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { SerialBus, SerialLine } from '../../../drivers/serial/index.js';
import { ParkTimer, PelcoController, PtzService, TourRunner, type DomeConfig } from '../../../firmware/ptz/index.js';
import { PtzDomeSim, ptyPair } from '../../fixtures/ptz-dome-sim.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setup(t: Test, domes: DomeConfig[], rs485 = false) {
  const pair = await ptyPair();
  const sim = new PtzDomeSim({ port: pair.b, addresses: domes.map((d) => d.address) });
  await sim.open();
  const clock = new ManualClock();
  const log = memoryLogger('ptz');
  const svc = new PtzService({ line: { path: pair.a, baudRate: 9600, rs485 }, domes, clock, log, gapMs: 1 });
  await svc.start();
  t.teardown(async () => {
    await svc.stop();
    await sim.close();
    await pair.close();
  });
  /**
   * Recalls the dome has seen, once it has seen at least `atLeast` of them
   * (the bus runs in real time), plus a moment for any that should not come.
   */
  const recalls = async (atLeast: number, address = 1): Promise<number[]> => {
    const seen = (): number[] => sim.commands('preset-goto', address).map((c) => c.preset as number);
    const end = Date.now() + 5000;
    while (seen().length < atLeast && Date.now() < end) await sleep(5);
    await sleep(40);
    return seen();
  };
  return { sim, clock, log, svc, recalls };
}

t.test('a tour visits its presets in order, each for its dwell, and loops', async (t) => {
  const { svc, clock, recalls } = await setup(t, [{ id: 'gate', protocol: 'd', address: 1 }]);
  svc.startTour('gate', {
    name: 'perimeter',
    steps: [
      { preset: 3, dwellMs: 5000 },
      { preset: 1, dwellMs: 10_000 },
      { preset: 7, dwellMs: 2000 },
    ],
  });
  t.equal(svc.tourRunning('gate'), 'perimeter');
  t.same(await recalls(1), [3], 'first preset at once');
  await clock.advance(4999);
  t.same(await recalls(1), [3], 'still dwelling at 4.999 s');
  await clock.advance(1);
  t.same(await recalls(2), [3, 1], 'second preset at 5 s');
  await clock.advance(9999);
  t.same(await recalls(2), [3, 1]);
  await clock.advance(1);
  t.same(await recalls(3), [3, 1, 7], 'third at 15 s');
  await clock.advance(2000);
  t.same(await recalls(4), [3, 1, 7, 3], 'back to the first at 17 s');
  // A user command ends the tour.
  await svc.dome('gate').move(0.1, 0, 0);
  t.equal(svc.tourRunning('gate'), undefined);
  await clock.advance(60_000);
  t.same(await recalls(4), [3, 1, 7, 3], 'no more recalls once stopped');
  t.equal(clock.pending(), 0, 'no timers left behind');
});

t.test('a one-shot tour ends after its last step; stopTour stops at once', async (t) => {
  const { svc, clock, recalls } = await setup(t, [{ id: 'a', protocol: 'd', address: 1 }]);
  svc.startTour('a', { name: 'once', loop: false, steps: [{ preset: 1, dwellMs: 1000 }, { preset: 2, dwellMs: 1000 }] });
  await clock.advance(1000);
  await clock.advance(1000);
  t.equal(svc.tourRunning('a'), undefined);
  t.same(await recalls(2), [1, 2]);
  svc.startTour('a', { name: 'again', steps: [{ preset: 4, dwellMs: 1000 }] });
  svc.stopTour('a');
  await clock.advance(5000);
  t.same(await recalls(3), [1, 2, 4]);
  t.throws(() => svc.startTour('a', { name: 'empty', steps: [] }), /tour "empty" has no steps/);
  t.throws(() => svc.startTour('a', { name: 'fast', steps: [{ preset: 1, dwellMs: 0 }] }), /dwell must be at least 100 ms/);
  t.throws(() => svc.startTour('nope', { name: 'x', steps: [{ preset: 1, dwellMs: 1000 }] }), /no PTZ dome "nope"/);
});

t.test('park: back to the home preset after the idle time, counted from the last user command', async (t) => {
  const { svc, clock, recalls } = await setup(t, [{ id: 'lobby', protocol: 'p', address: 1, park: { preset: 9, idleMs: 60_000 } }]);
  await clock.advance(59_999);
  t.same(await recalls(0), [], 'not yet');
  await clock.advance(1);
  t.same(await recalls(1), [9], 'parked after 60 s idle');
  await clock.advance(120_000);
  t.same(await recalls(1), [9], 'parks once, not every minute');
  await clock.advance(10_000);
  await svc.dome('lobby').move(0, 0.5, 0);
  await clock.advance(30_000);
  await svc.dome('lobby').stop(); // activity again: the countdown restarts
  await clock.advance(59_999);
  t.same(await recalls(1), [9]);
  await clock.advance(1);
  t.same(await recalls(2), [9, 9], 'parked again 60 s after the last command');
  // No park while a tour runs; the countdown restarts when it ends.
  svc.startTour('lobby', { name: 't', loop: false, steps: [{ preset: 2, dwellMs: 100_000 }] });
  await clock.advance(100_000);
  t.same(await recalls(3), [9, 9, 2]);
  await clock.advance(59_999);
  t.same(await recalls(3), [9, 9, 2]);
  await clock.advance(1);
  t.same(await recalls(4), [9, 9, 2, 9]);
});

t.test('RS-485 asked for on a pty: the service starts, warns with ENOTTY, and works', async (t) => {
  const { svc, sim, log } = await setup(t, [{ id: 'x', protocol: 'd', address: 1 }], true);
  t.match(svc.rs485, { requested: true, enabled: false, code: 'ENOTTY' });
  const warn = log.ring.tail(10, 'warn').find((r) => r.msg === 'kernel RS-485 mode not available');
  t.match(warn, { code: 'ENOTTY', error: /TIOCSRS485.*ENOTTY/ });
  await svc.dome('x').gotoPreset(1);
  await sim.waitFor((c) => c.name === 'preset-goto');
});

t.test('service contract: stop twice, restart, duplicate ids refused', async (t) => {
  const pair = await ptyPair();
  t.teardown(() => pair.close());
  const svc = new PtzService({ line: { path: pair.a, baudRate: 9600 }, domes: [{ id: 'a', protocol: 'd', address: 1 }] });
  t.throws(() => svc.dome('a'), /not started/);
  await svc.start();
  await svc.start(); // restart after start releases and reopens
  await svc.stop();
  await svc.stop();
  const dup = new PtzService({
    line: { path: pair.a, baudRate: 9600 },
    domes: [
      { id: 'a', protocol: 'd', address: 1 },
      { id: 'a', protocol: 'd', address: 2 },
    ],
  });
  await t.rejects(dup.start(), /"a" is configured twice/);
  const missing = new PtzService({ line: { path: `${pair.a}-gone`, baudRate: 9600 }, domes: [] });
  await t.rejects(missing.start());
  await missing.stop();
});

t.test('tour and park keep going when a recall fails', async (t) => {
  // A dome whose bus has gone away: every recall fails with a PtzError.
  const bus = new SerialBus({ line: new SerialLine({ path: 'unused', baudRate: 9600 }) });
  const dead = new PelcoController({ protocol: 'd', address: 1, device: bus.device({ name: 'gone' }) });
  bus.close();
  await t.rejects(dead.gotoPreset(1), { name: 'PtzError', code: 'CLOSED', message: /preset-goto not sent \(closed\)/ });
  const clock = new ManualClock();
  const log = memoryLogger('tour');
  const tour = new TourRunner(dead, { name: 'f', steps: [{ preset: 1, dwellMs: 100 }, { preset: 2, dwellMs: 100 }] }, clock, log);
  tour.start();
  await clock.advance(300);
  t.equal(tour.running, true, 'still touring');
  t.equal(tour.step, 1);
  tour.stop();
  t.equal(log.ring.tail(10, 'warn').filter((r) => r.msg === 'tour step failed').length, 4);
  const park = new ParkTimer(dead, { preset: 2, idleMs: 1000 }, clock, log);
  park.activity();
  await clock.advance(1000);
  t.equal(park.parked, false, 'a failed park is not reported as parked');
  t.ok(log.ring.tail(10, 'warn').some((r) => r.msg === 'park failed'));
  t.throws(() => new ParkTimer(dead, { preset: 2, idleMs: 10 }, clock), /at least 1000 ms/);
});
