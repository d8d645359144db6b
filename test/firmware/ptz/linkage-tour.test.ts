// A rule's ptzTour action, from the config through the box's own targets to
// the dome: an alarm starts the configured tour on a simulated Pelco dome on
// a real pty, which then visits its presets in order.
import t from 'tap';
import { EventBus } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { boxTargets } from '../../../firmware/linkage/box-targets.js';
import { LinkageService } from '../../../firmware/linkage/engine.js';
import { linkageSchema } from '../../../firmware/linkage/rules.js';
import { PtzDirectory, ptzSettingsSchema } from '../../../firmware/ptz/index.js';
import { PtzDomeSim, ptyPair } from '../../fixtures/ptz-dome-sim.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('an alarm rule starts the configured tour: the dome visits its presets in order', async (t) => {
  const pair = await ptyPair();
  const sim = new PtzDomeSim({ port: pair.b, addresses: [1] });
  await sim.open();
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const log = memoryLogger('ptz');
  const settings = ptzSettingsSchema.parse({
    domes: [{ id: 'gate', name: 'Gate', bus: 'bus1', address: 1, baudRate: 9600 }],
    tours: [{ id: 'perimeter', dome: 'gate', steps: [{ preset: 4, dwellSec: 5 }, { preset: 2, dwellSec: 5 }, { preset: 9, dwellSec: 5 }] }],
  });
  const ptz = new PtzDirectory(settings, [{ name: 'bus1', port: pair.a, direction: 'none' }], { clock, log });
  for (const s of ptz.services) await s.start();
  const bus = new EventBus();
  const rules = linkageSchema.parse({ rules: [{ id: 'door', name: 'Door', trigger: { type: 'alarm', input: 'door' }, actions: [{ type: 'ptzTour', dome: 'gate', tour: 'perimeter' }] }] }).rules;
  const linkage = new LinkageService({ bus, clock, log, rules: () => rules, timezone: () => 'UTC', targets: boxTargets({ bus, clock, channels: () => [], ptz, mqttEnabled: false }) });
  await linkage.start();
  t.teardown(async () => {
    await linkage.stop();
    for (const s of [...ptz.services].reverse()) await s.stop();
    await sim.close();
    await pair.close();
  });
  const recalls = async (n: number) => {
    const seen = () => sim.commands('preset-goto', 1).map((c) => c.preset as number);
    for (let i = 0; i < 250 && seen().length < n; i++) await sleep(20);
    await sleep(40);
    return seen();
  };

  bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: clock.now() });
  t.same(await recalls(1), [4], 'the first preset at once');
  await clock.advance(5000);
  t.same(await recalls(2), [4, 2], 'the second after its dwell');
  await clock.advance(5000);
  t.same(await recalls(3), [4, 2, 9], 'the third');
  t.equal(ptz.tourRunning('gate'), 'perimeter', 'and the tour is running');
});
