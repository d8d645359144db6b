// PTZ over the API against the ONVIF camera simulator: rights, presets,
// moves, and a dome that stops answering.
import t from 'tap';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { OnvifCamera } from '../../../../firmware/onvif/camera.js';
import { OnvifPtz } from '../../../../firmware/onvif/ptz.js';
import { OnvifCameraSim } from '../../../fixtures/onvif-camera/simulator.js';
import { caller, startWeb } from '../web-service.js';

t.test('PTZ routes', async (t) => {
  const sim = new OnvifCameraSim({ streams: { main: { uri: 'rtsp://127.0.0.1:1/a', width: 704, height: 576 }, sub: { uri: 'rtsp://127.0.0.1:1/b', width: 352, height: 288 } }, discoveryPort: null });
  await sim.start();
  t.teardown(() => sim.stop());
  sim.ptz.presets.set('3', { token: '3', name: 'Gate', position: { x: 0.5, y: -0.2, zoom: 0 } });
  const ptz = new OnvifPtz({ camera: new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password, log: memoryLogger(), timeoutMs: 1500 }) });
  const { web, config } = await startWeb({ ptz: () => ({ domeOfChannel: (c) => (c === 'dome' ? 'dome' : undefined), dome: () => ptz }) });
  t.teardown(() => web.stop());
  await config.set('channels', [{ id: 'dome', name: 'Dome', main: { url: 'rtsp://127.0.0.1:1/a' } }, { id: 'fixed', name: 'Fixed', main: { url: 'rtsp://127.0.0.1:1/b' } }]);
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77');
  const g = await call('POST', '/api/v1/login', {}, { name: 'guard', password: 'Night-Shift-77' });
  const guard = { cookie: g.cookie, 'x-csrf-token': g.json.csrf as string };

  const chans = (await call('GET', '/api/v1/channels', admin)).json.channels as { id: string; ptz: boolean }[];
  t.same(chans.map((c) => [c.id, c.ptz]), [['dome', true], ['fixed', false]], 'the channel list says which channel has a dome');
  t.same((await call('GET', '/api/v1/channels/dome/ptz', admin)).json.presets, [{ number: 3, name: 'Gate' }], "the camera's own presets");
  t.equal((await call('POST', '/api/v1/channels/dome/ptz', guard, { action: 'preset', preset: 3 })).status, 403, 'a viewer has no ptz right by default');
  t.equal((await call('POST', '/api/v1/channels/fixed/ptz', admin, { action: 'stop' })).status, 404, 'a channel without a dome: 404');
  t.equal((await call('POST', '/api/v1/channels/dome/ptz', admin, { action: 'move', pan: 5 })).status, 422, 'a speed outside -1..1: 422');
  t.equal((await call('POST', '/api/v1/channels/dome/ptz', admin, { action: 'preset' })).status, 422, 'a preset call without its number: 422');
  t.equal(sim.ptz.position().x, 0, 'nothing refused moved the dome');
  t.equal((await call('POST', '/api/v1/channels/dome/ptz', admin, { action: 'preset', preset: 3 })).status, 204);
  t.equal(sim.ptz.position().x, 0.5, 'preset 3 sent the dome there');
  await sim.stop();
  const gone = await call('POST', '/api/v1/channels/dome/ptz', admin, { action: 'stop' });
  t.equal(gone.status, 502, `a dome that does not answer: 502 (${gone.json.error.message})`);
  t.equal((await call('GET', '/healthz')).status, 200, 'the box goes on');
});
