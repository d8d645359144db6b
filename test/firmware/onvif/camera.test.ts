import t from 'tap';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger, LogRing } from '../../../firmware/core/log.js';
import { OnvifCamera, OnvifError, readProfile, redactUri } from '../../../firmware/onvif/index.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { fetchJpeg } from '../../../firmware/snapshots/http-jpeg.js';
import { startCameraWithSub, type SubCamera } from './helpers.js';

const execFileP = promisify(execFile);

async function probe(uri: string): Promise<{ codec_name: string; width: number; height: number }> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', uri], { timeout: 20000 });
  return JSON.parse(stdout).streams[0];
}

let rtsp: SubCamera;
let sim: OnvifCameraSim;
const ring = new LogRing();
const log = new Logger('onvif', { level: 'debug', sink: () => {}, ring });

t.before(async () => {
  rtsp = await startCameraWithSub();
  // The camera's clock is an hour and a bit ahead: the WS-Security timestamps must follow it.
  sim = new OnvifCameraSim({
    password: 'S3cret!pw',
    clockOffsetMs: 3_723_000,
    streams: { main: { uri: rtsp.main, width: 480, height: 360, fps: 10 }, sub: { uri: rtsp.sub, width: 352, height: 288, fps: 10 } },
  });
  await sim.start();
});
t.teardown(async () => {
  await sim?.stop();
  await rtsp?.stop();
});

const camera = (password = 'S3cret!pw', port?: number) => new OnvifCamera({ host: '127.0.0.1', port: port ?? sim.port, username: 'admin', password, log, timeoutMs: 3000 });

t.test('device information, through a camera clock that is off by an hour', async (t) => {
  const cam = camera();
  const info = await cam.deviceInfo();
  t.match(info, { manufacturer: 'HIKVISION', model: 'DS-2DE2A404IW-DE3', firmwareVersion: /^V5/, serialNumber: /^DS-2DE2A404IW/ });
  // Everything after GetSystemDateAndTime went with a token the camera accepted.
  t.ok(sim.requests.filter((r) => r.action === 'GetDeviceInformation').every((r) => r.authorized));
});

t.test('profiles, main and sub stream URIs that really stream, a JPEG snapshot', async (t) => {
  const cam = camera();
  const profiles = await cam.profiles();
  t.same(
    profiles.map((p) => [p.token, p.width, p.height, p.encoding, p.ptz]),
    [
      ['Profile_1', 480, 360, 'H264', true],
      ['Profile_2', 352, 288, 'H264', true],
    ],
  );
  const s = await cam.streams();
  t.equal(s.main.uri, rtsp.main);
  t.equal(s.sub?.uri, rtsp.sub);
  t.same(await probe(s.main.uri), { codec_name: 'h264', width: 480, height: 360 }, 'ffprobe reads the main stream');
  t.same(await probe(s.sub!.uri), { codec_name: 'h264', width: 352, height: 288 }, 'ffprobe reads the sub stream');

  t.ok(s.snapshotUri);
  t.equal((await fetch(s.snapshotUri!)).status, 401, 'the snapshot URI wants the login, as real cameras do');
  const jpeg = await fetchJpeg(s.snapshotUri!, { username: sim.username, password: sim.password });
  const dir = mkdtempSync(join(tmpdir(), 'onvif-snap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'snap.jpg'), jpeg);
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', join(dir, 'snap.jpg')]);
  t.equal(stdout.trim(), 'mjpeg,320,240', 'ffprobe decodes the snapshot as a JPEG');

  const logged = JSON.stringify(ring.tail());
  t.notOk(logged.includes('S3cret!pw'), 'the password is in no log record');
  t.match(logged, /onvif streams/);
});

t.test('a wrong password is an unauthorized error', async (t) => {
  const err = await camera('wrong').deviceInfo().catch((e) => e);
  t.type(err, OnvifError);
  t.equal(err.code, 'unauthorized');
  t.match(err.message, /refused the username or password/);
  t.notOk(String(err.message).includes('wrong'));
});

t.test('a closed port is unreachable; a web server that is not ONVIF is not-onvif', async (t) => {
  const srv = createServer((_req, res) => res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><body>Not Found</body></html>'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const notOnvif = await camera('x', port).connect().catch((e) => e);
  t.equal(notOnvif.code, 'not-onvif', notOnvif.message);
  await new Promise<void>((r) => srv.close(() => r()));
  const gone = await camera('x', port).connect().catch((e) => e);
  t.equal(gone.code, 'unreachable', gone.message);
  t.equal((await camera('x', port).deviceInfo().catch((e) => e)).code, 'unreachable', 'a failed connect is retried by the next call');
});

t.test('a username that cannot go into WS-Security XML is refused before sending', async (t) => {
  const err = await new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: 'a<b', password: 'x' }).connect().catch((e) => e);
  t.equal(err.code, 'unauthorized');
});

t.test('profile reading and URI redaction', async (t) => {
  t.equal(readProfile({}), null);
  t.equal(readProfile({ $: { token: '' } }), null);
  t.same(readProfile({ $: { token: 'p' } }), { token: 'p', name: 'p', ptz: false });
  t.same(readProfile({ $: { token: 'p' }, name: 7, videoEncoderConfiguration: { encoding: 'H265', resolution: { width: '1920', height: 'x' } } }), {
    token: 'p',
    name: '7',
    ptz: false,
    encoding: 'H265',
    width: 1920,
  });
  t.equal(redactUri('rtsp://admin:pw@10.0.0.2:554/Streaming/Channels/101'), 'rtsp://10.0.0.2:554/Streaming/Channels/101');
  t.equal(redactUri('rtsp://10.0.0.2/x'), 'rtsp://10.0.0.2/x');
});

t.test('a camera answering every call with an empty SOAP body: clear errors, the process stays up', async (t) => {
  const empty = '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body></s:Body></s:Envelope>';
  const srv = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end(empty));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const err = await camera('x', (srv.address() as { port: number }).port).connect().catch((e) => e);
  t.type(err, OnvifError);
  t.equal(err.code, 'bad-reply', err.message);
});
