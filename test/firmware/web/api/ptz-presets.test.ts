// Storing, renaming and clearing PTZ presets over the API: a Pelco-D dome
// simulator on a real pty pair behind the box's PtzDirectory (names kept in
// the config the web serves), and the ONVIF camera simulator, whose presets
// the camera keeps itself.
import t from 'tap';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { ManualClock } from '../../../../firmware/core/clock.js';
import { OnvifCamera } from '../../../../firmware/onvif/camera.js';
import { OnvifPtz } from '../../../../firmware/onvif/ptz.js';
import { PtzDirectory } from '../../../../firmware/ptz/index.js';
import type { ChannelRights } from '../../../../firmware/web/auth/roles.js';
import { OnvifCameraSim } from '../../../fixtures/onvif-camera/simulator.js';
import { PtzDomeSim, ptyPair } from '../../../fixtures/ptz-dome-sim.js';
import { caller, startWeb } from '../web-service.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('Pelco dome: store, rename and clear named presets from the page', async (t) => {
  const pair = await ptyPair();
  const sim = new PtzDomeSim({ port: pair.b, addresses: [1] });
  await sim.open();
  t.teardown(async () => {
    await sim.close();
    await pair.close();
  });
  let ptz: PtzDirectory | undefined;
  const { web, config } = await startWeb({ ptz: () => ptz });
  t.teardown(async () => {
    for (const s of [...(ptz?.services ?? [])].reverse()) await s.stop();
    await web.stop();
  });
  await config.set('channels', [{ id: 'gate', name: 'Gate', main: { url: 'rtsp://127.0.0.1:1/a' } }]);
  await config.set('ptz.domes', [{ id: 'gatedome', name: 'Gate dome', bus: 'bus1', address: 1, channel: 'gate', presets: [{ number: 2, name: 'Yard' }] }]);
  ptz = new PtzDirectory(config.get().ptz, [{ name: 'bus1', port: pair.a, direction: 'none' }], { clock: new ManualClock(), log: memoryLogger('ptz'), config });
  for (const s of ptz.services) await s.start();

  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  const login = async (name: string, role: 'operator' | 'viewer', rights: ChannelRights | null) => {
    await web.users!.addUser(name, role, 'Night-Shift-77', rights);
    const r = await call('POST', '/api/v1/login', {}, { name, password: 'Night-Shift-77' });
    return { cookie: r.cookie, 'x-csrf-token': r.json.csrf as string };
  };
  const guard = await login('guard', 'operator', { gate: ['live', 'ptz'] });
  const clerk = await login('clerk', 'operator', { gate: ['live', 'playback'] });
  const visitor = await login('visitor', 'viewer', null);
  const names = () => config.get().ptz.domes[0]!.presets;
  const presetPath = (n: string | number) => `/api/v1/channels/gate/ptz/presets/${n}`;

  sim.setPosition({ pan: 9000, tilt: 500 });
  const saved = await call('PUT', presetPath(5), admin, { name: 'Loading bay' });
  t.equal(saved.status, 200, 'stored');
  t.same(saved.json.presets, [{ number: 2, name: 'Yard' }, { number: 5, name: 'Loading bay' }], 'the answer lists the presets as they are now');
  await sim.waitFor((c) => c.name === 'preset-set' && c.preset === 5);
  t.same(sim.presets().get(5), { pan: 9000, tilt: 500, zoom: sim.presets().get(5)!.zoom }, 'the dome stored where it pointed as preset 5');
  t.same(names(), [{ number: 2, name: 'Yard' }, { number: 5, name: 'Loading bay' }], 'the name is in the config, as `dvr config get ptz` shows it');

  const before = sim.log.length;
  t.equal((await call('PUT', presetPath(2), admin, { name: 'Back yard', store: false })).status, 200, 'renamed');
  await sleep(50);
  t.equal(sim.log.length, before, 'a rename sends nothing to the dome');
  t.same(names(), [{ number: 2, name: 'Back yard' }, { number: 5, name: 'Loading bay' }]);
  t.same((await call('GET', '/api/v1/channels/gate/ptz', guard)).json.presets, names(), 'an operator with the ptz right sees the new names');

  // Who may: an operator or admin with the ptz right on that channel.
  t.equal((await call('PUT', presetPath(6), guard, { name: 'Guard post' })).status, 200, 'an operator with the ptz right stores one');
  t.equal((await call('POST', '/api/v1/channels/gate/ptz', guard, { action: 'preset', preset: 5 })).status, 204, 'and calls one');
  await sim.waitFor((c) => c.name === 'preset-goto' && c.preset === 5);
  t.equal((await call('DELETE', presetPath(6), clerk)).status, 403, 'an operator without the ptz right on the channel cannot clear one');
  t.equal((await call('PUT', presetPath(6), visitor, { name: 'Mine' })).status, 403, 'a viewer cannot store or rename one');
  t.equal((await call('DELETE', presetPath(6), guard)).status, 200, 'the operator clears the one stored');
  t.equal((await call('PUT', presetPath(5), {}, { name: 'X' })).status, 401, 'without a session: 401');

  // Bad input: refused before anything reaches the dome or the config.
  const n0 = sim.log.length;
  for (const [path, body, why] of [
    [presetPath(0), { name: 'Zero' }, 'preset 0'],
    [presetPath(256), { name: 'Too far' }, 'preset 256'],
    [presetPath('abc'), { name: 'Letters' }, 'a preset that is not a number'],
    [presetPath(7), { name: '   ' }, 'a blank name'],
    [presetPath(7), { name: 'x'.repeat(65) }, 'a name over 64 characters'],
    [presetPath(7), { name: 7 }, 'a name that is not a string'],
    [presetPath(7), { name: 'Ok', store: 'yes' }, 'store that is not a boolean'],
  ] as const) {
    const r = await call('PUT', path, admin, body);
    t.equal(r.status, 422, `${why}: 422 (${r.json.error.message})`);
  }
  await sleep(50);
  t.equal(sim.log.length, n0, 'nothing refused reached the dome');
  t.same(names(), [{ number: 2, name: 'Back yard' }, { number: 5, name: 'Loading bay' }], 'nor the config');

  const cleared = await call('DELETE', presetPath(5), admin);
  t.equal(cleared.status, 200);
  await sim.waitFor((c) => c.name === 'preset-clear' && c.preset === 5);
  t.same(names(), [{ number: 2, name: 'Back yard' }], 'cleared from the config too');

  const audit = (await call('GET', '/api/v1/audit', admin)).json.records as { action: string; user: string; detail?: Record<string, unknown> }[];
  const changes = audit.filter((r) => r.action === 'setting-changed' && r.detail?.preset !== undefined).map((r) => [r.user, r.detail!.preset, r.detail!.name ?? 'cleared']);
  t.same(changes, [['installer', 5, 'Loading bay'], ['installer', 2, 'Back yard'], ['guard', 6, 'Guard post'], ['guard', 6, 'cleared'], ['installer', 5, 'cleared']], 'each change is in the audit log, refused ones are not');
});

t.test('ONVIF camera: presets stored on the camera; a rename alone is refused with the reason', async (t) => {
  const sim = new OnvifCameraSim({ streams: { main: { uri: 'rtsp://127.0.0.1:1/a', width: 704, height: 576 }, sub: { uri: 'rtsp://127.0.0.1:1/b', width: 352, height: 288 } }, discoveryPort: null });
  await sim.start();
  t.teardown(() => sim.stop());
  const ptz = new OnvifPtz({ camera: new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password, log: memoryLogger(), timeoutMs: 1500 }) });
  const { web, config } = await startWeb({ ptz: () => ({ domeOfChannel: (c) => (c === 'dome' ? 'dome' : undefined), dome: () => ptz }) });
  t.teardown(() => web.stop());
  await config.set('channels', [{ id: 'dome', name: 'Dome', main: { url: 'rtsp://127.0.0.1:1/a' } }]);
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };

  await ptz.move(0.5, 0, 0);
  await sleep(300);
  await ptz.stop();
  const aim = sim.ptz.position();
  const r = await call('PUT', '/api/v1/channels/dome/ptz/presets/4', admin, { name: 'Porch' });
  t.equal(r.status, 200, 'stored on the camera');
  const onCamera = [...sim.ptz.presets.values()].find((p) => p.name === 'Porch');
  t.ok(onCamera, 'the camera has a preset named Porch');
  t.ok(Math.abs(onCamera!.position.x - aim.x) < 0.01, 'at the position the camera pointed to');
  t.ok(r.json.presets.some((p: { name: string }) => p.name === 'Porch'), 'and the answer lists it');

  const rename = await call('PUT', '/api/v1/channels/dome/ptz/presets/4', admin, { name: 'Front porch', store: false });
  t.equal(rename.status, 409, `a rename alone: 409 (${rename.json.error.message})`);
  t.match(rename.json.error.message, /camera keeps its preset names/);

  t.equal((await call('DELETE', '/api/v1/channels/dome/ptz/presets/4', admin)).status, 200, 'cleared');
  t.notOk([...sim.ptz.presets.values()].some((p) => p.name === 'Porch'), 'gone from the camera');
});
