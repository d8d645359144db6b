// Finding and checking ONVIF cameras from the web API, against the camera
// simulator over real UDP and HTTP on loopback: discovery, a probe with right
// and wrong credentials, a camera that is not there or not ONVIF, hosts that
// are not hosts, and who may ask.
import t from 'tap';
import { createServer } from 'node:http';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { OnvifError } from '../../../../firmware/onvif/errors.js';
import { cameraError } from '../../../../firmware/web/api/onvif-routes.js';
import { OnvifCameraSim } from '../../../fixtures/onvif-camera/simulator.js';
import { freePort } from '../../../helpers/firmware.js';
import { caller, startWeb } from '../web-service.js';

const streams = { main: { uri: 'rtsp://127.0.0.1:9/Streaming/Channels/101', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/Streaming/Channels/102', width: 640, height: 360 } };
const CAM_PW = 'Cam-Secret-4711';

t.test('discover and probe ONVIF cameras', async (t) => {
  const sim = new OnvifCameraSim({ streams, password: CAM_PW });
  await sim.start();
  t.teardown(() => sim.stop());
  const log = memoryLogger('web');
  const { web, config } = await startWeb({ log, onvif: { target: { address: '127.0.0.1', port: sim.discoveryPort! }, discoveryMs: 300, cameraTimeoutMs: 2000 } });
  t.teardown(() => web.stop());
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  const login = async (name: string, password: string, role: string) => {
    t.equal((await call('POST', '/api/v1/users', admin, { name, password, role })).status, 201, `${role} added`);
    const r = await call('POST', '/api/v1/login', {}, { name, password });
    return { cookie: r.cookie, 'x-csrf-token': r.json.csrf as string };
  };
  const probe = (body: unknown, who: Record<string, string> = admin) => call('POST', '/api/v1/onvif/probe', who, body);
  const good = { host: '127.0.0.1', port: sim.port, username: sim.username, password: CAM_PW };

  const found = await call('POST', '/api/v1/onvif/discover', admin);
  t.equal(found.status, 200, JSON.stringify(found.json));
  t.same(found.json.devices, [
    { urn: sim.urn, address: '127.0.0.1', port: sim.port, path: '/onvif/device_service', serviceUrl: sim.deviceUrl, name: 'SIM-CAM', hardware: 'DS-2DE2A404IW-DE3', usedBy: null },
  ], 'the simulator, with its name and hardware from its scopes');

  const ok = await probe(good);
  t.equal(ok.status, 200, JSON.stringify(ok.json));
  t.match(ok.json, {
    host: '127.0.0.1', port: sim.port, path: '/onvif/device_service',
    device: { manufacturer: 'HIKVISION', model: 'DS-2DE2A404IW-DE3', firmware: /^V5/, serial: /^DS-/ },
    main: { uri: streams.main.uri, width: 1920, height: 1080 },
    sub: { uri: streams.sub.uri, width: 640, height: 360 },
    snapshotUri: sim.snapshotUrl, ptz: true, events: true, usedBy: null,
  }, 'device, streams, snapshot, PTZ and events');
  t.equal(ok.json.profiles.length, 2, 'both profiles listed');
  t.notMatch(JSON.stringify(ok.json), CAM_PW, 'the password is not in the answer');

  // Once a channel uses the camera, discovery and the probe say so.
  await config.set('channels', [{ id: 'dome', name: 'Dome', main: { url: streams.main.uri }, username: 'admin', password: CAM_PW, onvif: { host: '127.0.0.1', port: sim.port } }]);
  t.equal((await call('POST', '/api/v1/onvif/discover', admin)).json.devices[0].usedBy, 'dome', 'discovery: already channel dome');

  const wrong = await probe({ ...good, password: 'Not-The-Pass-1' });
  t.equal(wrong.status, 422);
  t.equal(wrong.json.error.code, 'camera-unauthorized');
  t.notMatch(JSON.stringify(wrong.json), /Not-The-Pass-1/, 'the wrong password is not echoed');

  const closed = await freePort();
  const gone = await probe({ ...good, port: closed });
  t.equal(gone.status, 504, JSON.stringify(gone.json));
  t.equal(gone.json.error.code, 'camera-unreachable');

  const html = createServer((_q, s) => s.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>router login</body></html>'));
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => html.close());
  const notOnvif = await probe({ ...good, port: (html.address() as { port: number }).port });
  t.equal(notOnvif.status, 502, `a web server that is not a camera: ${JSON.stringify(notOnvif.json)}`);
  t.equal(notOnvif.json.error.code, 'camera-not-onvif');

  for (const host of ['a b', 'http://x', ';rm -rf /', 'x'.repeat(300), '', 'cam/onvif', 'user@cam', '-cam', 'cam..lan', '$(reboot)']) {
    const r = await probe({ ...good, host });
    t.equal(r.status, 422, `host ${JSON.stringify(host.slice(0, 20))}: 422`);
    t.notMatch(JSON.stringify(r.json), CAM_PW);
  }
  t.equal((await probe({ ...good, port: 0 })).status, 422, 'port 0: 422');
  t.equal((await probe({ ...good, path: '/../x?y' })).status, 422, 'a path that is not a path: 422');
  t.equal((await probe({ host: '127.0.0.1', username: 'admin' })).status, 422, 'no password: 422');

  const logText = JSON.stringify(log.ring.tail());
  t.match(logText, /onvif camera checked/, 'checks are logged');
  t.notMatch(logText, new RegExp(`${CAM_PW}|Not-The-Pass-1`), 'no password in the log');

  t.equal((await call('POST', '/api/v1/onvif/discover')).status, 401, 'no session: 401');
  t.equal((await probe(good, {})).status, 401, 'no session, probe: 401');
  for (const [role, s] of [['viewer', await login('guard', 'Night-Shift-77', 'viewer')], ['operator', await login('shiftlead', 'Shift-Lead-2026', 'operator')]] as const) {
    t.equal((await call('POST', '/api/v1/onvif/discover', s)).status, 403, `${role}: discover 403`);
    t.equal((await probe(good, s)).status, 403, `${role}: probe 403`);
  }
});

t.test('a probe that cannot be sent is a 503, not a crash', async (t) => {
  const { web } = await startWeb({ onvif: { discover: async () => Promise.reject(new Error('no network')) } });
  t.teardown(() => web.stop());
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' });
  const r = await call('POST', '/api/v1/onvif/discover', { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string });
  t.equal(r.status, 503);
  t.equal(r.json.error.code, 'discovery-failed');
});

t.test('camera errors as the page sees them, the password cut out of any text', async (t) => {
  const pw = 'Leaky-Pass-99';
  const cases = [
    [new OnvifError('unauthorized', 'refused'), 422, 'camera-unauthorized'],
    [new OnvifError('unreachable', 'no answer'), 504, 'camera-unreachable'],
    [new OnvifError('not-onvif', 'html'), 502, 'camera-not-onvif'],
    [new OnvifError('unsupported', `no H.264 profile for ${pw}`), 502, 'camera-unsupported'],
    [new OnvifError('bad-reply', `fault: user admin:${pw} rejected`), 502, 'camera-bad-reply'],
    [new TypeError(`boom ${pw}`), 502, 'camera-bad-reply'],
  ] as const;
  for (const [e, status, code] of cases) {
    const h = cameraError(e, pw);
    t.match(h, { status, code }, code);
    t.notMatch(h.message, pw, `${code}: no password in the text`);
  }
});
