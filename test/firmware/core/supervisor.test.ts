import t from 'tap';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import type { Service } from '../../../firmware/core/service.js';
import { DependencyError, Supervisor } from '../../../firmware/core/supervisor.js';

/** A service whose behaviour the test scripts, recording what happened to it. */
class Probe implements Service {
  running = false;
  starts = 0;
  stops = 0;
  failStarts = 0;
  hangStop = false;
  hangStart = false;
  constructor(
    readonly name: string,
    readonly dependsOn: string[] = [],
    private readonly journal: string[] = [],
  ) {}
  async start() {
    this.starts++;
    this.journal.push(`start ${this.name}`);
    if (this.hangStart) return new Promise<void>(() => {});
    if (this.failStarts > 0) {
      this.failStarts--;
      throw new Error(`${this.name} cannot open its device`);
    }
    this.running = true;
  }
  async stop() {
    this.stops++;
    this.journal.push(`stop ${this.name}`);
    if (this.hangStop) return new Promise<void>(() => {});
    this.running = false;
  }
}

function setup() {
  const clock = new ManualClock();
  const bus = new EventBus();
  const events: BusEvents['serviceState'][] = [];
  bus.on('serviceState', (e) => events.push(e));
  const sup = new Supervisor({ bus, clock, log: memoryLogger(), retryBaseMs: 1000, retryMaxMs: 8000, startTimeoutMs: 5000 });
  return { clock, bus, sup, events };
}

t.test('starts in dependency order and stops in reverse', async (t) => {
  const { sup } = setup();
  const journal: string[] = [];
  sup.add(new Probe('mqtt', ['network'], journal));
  sup.add(new Probe('recorder', ['storage'], journal));
  sup.add(new Probe('storage', [], journal));
  sup.add(new Probe('network', [], journal));
  await sup.start();
  const starts = journal.filter((j) => j.startsWith('start'));
  t.ok(starts.indexOf('start storage') < starts.indexOf('start recorder'));
  t.ok(starts.indexOf('start network') < starts.indexOf('start mqtt'));
  journal.length = 0;
  await sup.stop();
  t.same(journal, [...starts].reverse().map((s) => s.replace('start', 'stop')));
});

t.test('a service that fails to start is cleaned up and retried while the others run', async (t) => {
  const { sup, clock, events } = setup();
  const web = new Probe('web');
  const storage = new Probe('storage');
  const recorder = new Probe('recorder', ['storage']);
  storage.failStarts = 2;
  sup.add(web);
  sup.add(storage);
  sup.add(recorder);
  await sup.start();
  t.ok(web.running, 'unrelated service runs');
  t.notOk(storage.running);
  t.equal(storage.stops, 1, 'the failed start was undone with stop()');
  const byName = () => Object.fromEntries(sup.status().map((s) => [s.name, s]));
  t.equal(byName().storage!.state, 'retrying');
  t.match(byName().storage!.lastError, /cannot open its device/);
  t.equal(byName().recorder!.state, 'waiting', 'a dependent waits instead of starting half-wired');
  t.equal(recorder.starts, 0);
  t.ok(events.some((e) => e.service === 'storage' && e.state === 'failed'), 'failure is an event on the bus');

  await clock.advance(1000); // first retry, fails again
  t.equal(storage.starts, 2);
  await clock.advance(1999);
  t.equal(storage.starts, 2, 'backoff doubled to 2 s');
  await clock.advance(1);
  t.ok(storage.running, 'third attempt succeeds');
  t.ok(recorder.running, 'the waiting dependent starts as soon as its dependency runs');
  t.same(sup.status().map((s) => s.state), ['running', 'running', 'running']);
});

t.test('a start that hangs times out and is retried', async (t) => {
  const { sup, clock } = setup();
  const cam = new Probe('camera');
  cam.hangStart = true;
  sup.add(cam);
  const started = sup.start();
  await clock.advance(5000);
  await started;
  t.equal(sup.status()[0]!.state, 'retrying');
  t.match(sup.status()[0]!.lastError, /took over 5000 ms/);
  cam.hangStart = false;
  await clock.advance(1000);
  t.equal(sup.status()[0]!.state, 'running');
});

t.test('stop is bounded even when a service never finishes stopping', async (t) => {
  const { sup, clock } = setup();
  const stuck = new Probe('stuck');
  const other = new Probe('other');
  stuck.hangStop = true;
  sup.add(other);
  sup.add(stuck);
  await sup.start();
  const stopping = sup.stop(3000);
  await clock.advance(3000);
  const r = await stopping;
  t.same(r.timedOut, ['stuck']);
  t.notOk(other.running, 'the others were still stopped');
  t.ok(sup.status().every((s) => s.state === 'stopped'));
});

t.test('stop cancels pending retries', async (t) => {
  const { sup, clock } = setup();
  const flaky = new Probe('flaky');
  flaky.failStarts = 100;
  sup.add(flaky);
  await sup.start();
  t.equal(clock.pending(), 1);
  await sup.stop();
  t.equal(clock.pending(), 0);
  await clock.advance(60_000);
  t.equal(flaky.starts, 1);
});

t.test('a service that breaks while running is restarted', async (t) => {
  const { sup, clock } = setup();
  const cam = new Probe('camera');
  sup.add(cam);
  await sup.start();
  await sup.reportFailure('camera', new Error('stream stalled'));
  t.equal(sup.status()[0]!.state, 'retrying');
  t.notOk(cam.running);
  await clock.advance(1000);
  t.ok(cam.running);
  t.equal(cam.starts, 2);
});

t.test('configuration mistakes are refused before anything starts', async (t) => {
  const a = setup();
  a.sup.add(new Probe('a', ['b']));
  a.sup.add(new Probe('b', ['a']));
  await t.rejects(a.sup.start(), new DependencyError('dependency cycle: a -> b -> a'));
  const b = setup();
  const p = new Probe('recorder', ['storage']);
  b.sup.add(p);
  await t.rejects(b.sup.start(), /depends on unknown service "storage"/);
  t.equal(p.starts, 0);
  t.throws(() => b.sup.add(new Probe('recorder')), /added twice/);
});
