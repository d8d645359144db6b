// Preset names of RS-485 domes live in the config: read at start, and every
// set, clear or rename at run time written through the config store (the
// same validated, durable writes as `dvr config set`). A "restart" here is
// what the box does: a new ConfigStore over the same directory and a new
// PtzDirectory built from what it loaded.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '../../../firmware/config/store.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { PtzDirectory, type Rs485Line } from '../../../firmware/ptz/index.js';
import { PtzDomeSim, ptyPair } from '../../fixtures/ptz-dome-sim.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rig(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'ptz-presets-'));
  const pair = await ptyPair();
  const sim = new PtzDomeSim({ port: pair.b, addresses: [1] });
  await sim.open();
  const lines: Rs485Line[] = [{ name: 'bus1', port: pair.a, direction: 'none' }];
  const running: PtzDirectory[] = [];
  /** Boots the PTZ part of the box from the config on disk, as the firmware does at start. */
  const boot = async () => {
    const config = new ConfigStore({ dir, log: memoryLogger('config') });
    await config.load();
    const ptz = new PtzDirectory(config.get().ptz, lines, { clock: new ManualClock(), log: memoryLogger('ptz'), config });
    for (const s of ptz.services) await s.start();
    running.push(ptz);
    return { config, ptz };
  };
  const shutdown = async (ptz: PtzDirectory) => {
    for (const s of [...ptz.services].reverse()) await s.stop();
  };
  t.teardown(async () => {
    for (const p of running) await shutdown(p);
    await sim.close();
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const onDisk = () => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).ptz.domes[0].presets as unknown;
  return { dir, sim, boot, shutdown, onDisk };
}

t.test('a preset named at run time is listed again after a restart', async (t) => {
  const { sim, boot, shutdown, onDisk } = await rig(t);
  const first = await boot();
  await first.config.set('ptz.domes', [{ id: 'gate', name: 'Gate dome', bus: 'bus1', address: 1 }]);
  await shutdown(first.ptz);

  const second = await boot();
  const dome = second.ptz.dome('gate');
  t.same(dome.presets(), [], 'nothing named yet');
  sim.setPosition({ pan: 4500, tilt: 1000 });
  await dome.setPreset(3, 'Front door');
  await dome.setPreset(7, 'Drive');
  await sim.waitFor((c) => c.name === 'preset-set' && c.preset === 7);
  t.same([...sim.presets().keys()], [3, 7], 'the dome stored both');
  t.same(onDisk(), [
    { number: 3, name: 'Front door' },
    { number: 7, name: 'Drive' },
  ], 'written to config.json at once');
  await shutdown(second.ptz);

  const third = await boot();
  t.same(third.ptz.dome('gate').presets(), [
    { number: 3, name: 'Front door' },
    { number: 7, name: 'Drive' },
  ], 'the names are back after the restart');
  t.same(third.config.get().ptz.domes[0]!.presets, third.ptz.dome('gate').presets(), 'and `dvr config get ptz` shows the same');
});

t.test('rename and clear are kept too; a rename sends nothing to the dome', async (t) => {
  const { sim, boot, shutdown, onDisk } = await rig(t);
  const first = await boot();
  // Named in the config by the installer (presets stored with the dome's own keyboard).
  await first.config.set('ptz.domes', [
    { id: 'gate', name: 'Gate dome', bus: 'bus1', address: 1, presets: [{ number: 1, name: 'Gate' }, { number: 2, name: 'Yard' }] },
  ]);
  await shutdown(first.ptz);

  const second = await boot();
  const dome = second.ptz.dome('gate');
  t.same(dome.presets(), [{ number: 1, name: 'Gate' }, { number: 2, name: 'Yard' }], 'loaded from the config at start');
  await dome.renamePreset(1, 'Main gate');
  await dome.clearPreset(2);
  await sim.waitFor((c) => c.name === 'preset-clear');
  await sleep(50);
  t.same(sim.log.map((c) => `${c.name} ${c.preset}`), ['preset-clear 2'], 'only the clear reached the dome');
  // Storing preset 1 again (re-aimed) keeps its name.
  await dome.setPreset(1);
  t.same(onDisk(), [{ number: 1, name: 'Main gate' }]);
  await shutdown(second.ptz);

  const third = await boot();
  t.same(third.ptz.dome('gate').presets(), [{ number: 1, name: 'Main gate' }]);
});

t.test('bad names are refused before anything is sent; a failed save is said; the dome keeps working', async (t) => {
  const { sim, boot, shutdown, onDisk } = await rig(t);
  const first = await boot();
  await first.config.set('ptz.domes', [{ id: 'gate', name: 'Gate dome', bus: 'bus1', address: 1 }]);
  await shutdown(first.ptz);
  const { config, ptz } = await boot();
  const dome = ptz.dome('gate');
  await t.rejects(dome.setPreset(1, ''), /preset name must be 1..64 characters and not blank, got ""/);
  await t.rejects(dome.setPreset(1, '   '), /not blank/);
  await t.rejects(dome.setPreset(1, 'x'.repeat(65)), /1..64 characters/);
  await t.rejects(dome.renamePreset(0, 'Zero'), /preset must be an integer 1..255, got 0/);
  await t.rejects(dome.setPreset(256, 'Too far'), /preset must be an integer 1..255, got 256/);
  await sleep(50);
  t.same(sim.log, [], 'nothing reached the dome');
  t.same(onDisk(), [], 'nothing written');

  // The dome was removed from the config meanwhile (someone else's edit): the
  // preset is set on the dome, and the caller is told its name was not kept.
  await config.set('ptz.domes', []);
  const err = await dome.setPreset(4, 'Porch').catch((e: unknown) => e);
  t.match(err, { name: 'PtzError', code: 'NOT_SAVED', message: 'PTZ dome "gate": preset 4 is set, but the preset names were not saved: PTZ dome "gate" is no longer in the config' });
  await dome.gotoPreset(4);
  await sim.waitFor((c) => c.name === 'preset-goto' && c.preset === 4);
  t.pass('the dome still answers commands');
});

t.test('a preset listed twice in the config is reported; the later name is used', async (t) => {
  const { boot, shutdown } = await rig(t);
  const first = await boot();
  await first.config.set('ptz.domes', [
    { id: 'gate', name: 'Gate dome', bus: 'bus1', address: 1, presets: [{ number: 1, name: 'Old' }, { number: 1, name: 'New' }] },
  ]);
  await shutdown(first.ptz);
  const { ptz } = await boot();
  t.same(ptz.problems, ['PTZ dome "gate" lists preset 1 twice; "New" is used']);
  t.same(ptz.dome('gate').presets(), [{ number: 1, name: 'New' }]);
});
