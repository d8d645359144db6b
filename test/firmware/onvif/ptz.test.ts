import t from 'tap';
import { OnvifCamera, OnvifPtz, xmlText } from '../../../firmware/onvif/index.js';
import { PtzError, type PtzController } from '../../../firmware/ptz/index.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';

const streams = { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: OnvifCameraSim;
let ptz: OnvifPtz;
t.before(async () => {
  sim = new OnvifCameraSim({ streams, clockOffsetMs: 600_000 });
  await sim.start();
  ptz = new OnvifPtz({ camera: new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: sim.password }) });
});
t.teardown(() => sim.stop());

t.test('continuous move changes the position, stop stops it', async (t) => {
  const controller: PtzController = ptz; // the same interface Pelco domes implement
  const before = await ptz.rawPosition();
  await controller.move(0.8, -0.4, 0.5);
  t.ok(sim.ptz.moving().panTilt, 'the simulator is moving');
  await sleep(400);
  const during = await ptz.rawPosition();
  t.ok(during.x > before.x + 0.05, `pan moved right (${before.x} → ${during.x})`);
  t.ok(during.y < before.y - 0.02, `tilt moved down (${before.y} → ${during.y})`);
  t.ok(during.zoom > before.zoom, 'zoomed in');
  await controller.stop();
  t.same(sim.ptz.moving(), { panTilt: false, zoom: false });
  const stopped = await ptz.rawPosition();
  await sleep(300);
  t.same(await ptz.rawPosition(), stopped, 'no movement after stop');
  const p = await ptz.position!();
  t.ok(p.pan >= 0 && p.pan < 36000 && p.zoom > 0 && p.tilt > 0, `position in the interface's units: ${JSON.stringify(p)}`);
});

t.test('set, go to, list and clear presets', async (t) => {
  await ptz.setPreset(1, 'Gate & door');
  const at1 = sim.ptz.position();
  t.equal(sim.ptz.presets.get('1')?.name, 'Gate & door', 'the name arrives intact (escaped in XML)');
  await ptz.move(-1, 1, 0);
  await sleep(300);
  await ptz.stop();
  t.not(sim.ptz.position().x, at1.x, 'moved away');
  await ptz.gotoPreset(1, 0.5);
  t.same(sim.ptz.position(), at1, 'back at preset 1');
  await ptz.setPreset(7);
  t.same(ptz.presets(), [
    { number: 1, name: 'Gate & door' },
    { number: 7, name: 'Preset 7' },
  ]);
  // A camera-side preset with a token of its own gets the next free number.
  sim.ptz.presets.set('home', { token: 'home', name: 'Home', position: { x: 0, y: 0, zoom: 0 } });
  t.same(await ptz.refreshPresets(), [
    { number: 1, name: 'Gate & door' },
    { number: 2, name: 'Home' },
    { number: 7, name: 'Preset 7' },
  ]);
  await ptz.gotoPreset(2);
  t.same(sim.ptz.position(), { x: 0, y: 0, zoom: 0 });
  await ptz.clearPreset(7);
  t.notOk(sim.ptz.presets.has('7'));
  t.same(ptz.presets().map((p) => p.number), [1, 2]);
  const err = await ptz.gotoPreset(99).catch((e) => e);
  t.type(err, PtzError);
  t.equal(err.code, 'BAD_REPLY', err.message);
  await t.rejects(ptz.setPreset(0), RangeError);
  await t.rejects(ptz.move(2, 0, 0), RangeError);
});

t.test('Pelco-only features are refused, not ignored', async (t) => {
  for (const p of [ptz.focus(1), ptz.iris(-1), ptz.aux(1, true), ptz.autoScan(true), ptz.pattern('run')]) {
    await t.rejects(p, { name: 'PtzError', code: 'UNSUPPORTED' });
  }
});

t.test('a wrong password and a camera without PTZ', async (t) => {
  const bad = new OnvifPtz({ camera: new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: 'nope' }) });
  await t.rejects(bad.stop(), { name: 'PtzError', code: 'UNAUTHORIZED' });
  const explicit = new OnvifPtz({ profileToken: 'Profile_9', camera: new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: sim.password }) });
  await t.rejects(explicit.stop(), { code: 'BAD_REPLY' });
  const noPtz = new OnvifPtz({ camera: { label: 'x', profiles: async () => [{ token: 'p', name: 'p', ptz: false }] } as unknown as OnvifCamera });
  await t.rejects(noPtz.stop(), { code: 'UNSUPPORTED' });
  t.equal(xmlText(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
});

t.test('a camera that is down: UNREACHABLE, then commands work again once it is back', async (t) => {
  await sim.stop();
  await t.rejects(ptz.stop(), { name: 'PtzError', code: 'UNREACHABLE' });
  await sim.start();
  await ptz.move(0.5, 0, 0);
  t.ok(sim.ptz.moving().panTilt);
  await ptz.stop();
});
