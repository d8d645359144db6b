// Self-test of test/fixtures/onvif-camera (tap does not run files under test/fixtures):
// the simulator checked with hand-made SOAP requests, independent of the firmware's client.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { durationMs } from '../../fixtures/onvif-camera/soap.js';

const streams = { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } };
const OFFSET = -5 * 3600_000;

let sim: OnvifCameraSim;
t.before(async () => {
  sim = new OnvifCameraSim({ streams, clockOffsetMs: OFFSET, password: 'pw' });
  await sim.start();
});
t.teardown(() => sim.stop());

function token(password: string, created: Date, nonce = randomBytes(16)): string {
  const c = created.toISOString();
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(c), Buffer.from(password)])).digest('base64');
  return (
    '<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken><Username>admin</Username>' +
    `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce>${nonce.toString('base64')}</Nonce><Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${c}</Created></UsernameToken></Security>`
  );
}

async function soap(body: string, header = '', path = '/onvif/device_service'): Promise<{ status: number; xml: string }> {
  const res = await fetch(`http://${sim.host}:${sim.port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/soap+xml; charset=utf-8' },
    body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`,
  });
  return { status: res.status, xml: await res.text() };
}

const camNow = () => new Date(Date.now() + OFFSET);

t.test('GetSystemDateAndTime needs no login and tells the camera clock', async (t) => {
  const r = await soap('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>');
  t.equal(r.status, 200);
  const hour = /<tt:UTCDateTime><tt:Time><tt:Hour>(\d+)</.exec(r.xml)?.[1];
  t.equal(Number(hour), camNow().getUTCHours());
});

t.test('WS-Security: camera-time token accepted once; wrong password, real-clock token, replay refused with ter:NotAuthorized', async (t) => {
  const body = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>';
  const nonce = randomBytes(16);
  const good = await soap(body, token('pw', camNow(), nonce));
  t.equal(good.status, 200);
  t.match(good.xml, /<tds:Manufacturer>HIKVISION</);
  for (const [why, header] of [
    ['no token', ''],
    ['wrong password', token('nope', camNow())],
    ['Created on the real clock, 5 h off the camera', token('pw', new Date())],
    ['replayed nonce', token('pw', camNow(), nonce)],
  ] as const) {
    const r = await soap(body, header);
    t.equal(r.status, 400, why);
    t.match(r.xml, /<env:Value>ter:NotAuthorized<\/env:Value>/, why);
  }
});

t.test('malformed requests and unknown actions get SOAP faults; GET of a service is 404', async (t) => {
  const bad = await fetch(`http://${sim.host}:${sim.port}/onvif/device_service`, { method: 'POST', body: '<not xml' });
  t.equal(bad.status, 400);
  const unknown = await soap('<FlyToTheMoon xmlns="urn:x"/>', token('pw', camNow()));
  t.match(unknown.xml, /ter:ActionNotSupported/);
  t.equal((await fetch(`http://${sim.host}:${sim.port}/onvif/device_service`)).status, 404);
});

t.test('PullMessages long-polls: empty after its Timeout, at once when an event is raised', async (t) => {
  const created = await soap('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT10S</InitialTerminationTime></CreatePullPointSubscription>', token('pw', camNow()), '/onvif/Events');
  const addr = /<wsa:Address>([^<]+)</.exec(created.xml)![1]!;
  const path = new URL(addr).pathname;
  t.match(path, /^\/onvif\/Events\/PullSubManager_/);
  const pull = (timeout: string) => soap(`<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>${timeout}</Timeout><MessageLimit>10</MessageLimit></PullMessages>`, token('pw', camNow()), path);
  const first = await pull('PT1S');
  t.equal((first.xml.match(/PropertyOperation="Initialized"/g) ?? []).length, 4, 'the current state of every property');
  const t0 = Date.now();
  const empty = await pull('PT0.5S');
  t.ok(Date.now() - t0 >= 400, 'waited for the timeout');
  t.notMatch(empty.xml, /NotificationMessage/);
  const waiting = pull('PT20S');
  setTimeout(() => sim.motion(true), 100);
  const got = await waiting;
  t.match(got.xml, /tns1:RuleEngine\/CellMotionDetector\/Motion<\/wsnt:Topic>.*IsMotion" Value="true"/);
  // The pull answers with the first message; the MotionAlarm raised with it waits for the next pull.
  t.match((await pull('PT1S')).xml, /tns1:VideoSource\/MotionAlarm<\/wsnt:Topic>.*State" Value="true"/);
  const renew = await soap('<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>PT1M</TerminationTime></Renew>', token('pw', camNow()), path);
  t.match(renew.xml, /RenewResponse/);
  const unsub = await soap('<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>', token('pw', camNow()), path);
  t.match(unsub.xml, /UnsubscribeResponse/);
  t.match((await pull('PT1S')).xml, /ResourceUnknownFault/, 'gone after Unsubscribe');
  sim.motion(false);
});

t.test('subscriptions expire on the camera clock', async (t) => {
  const created = await soap('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT0.2S</InitialTerminationTime></CreatePullPointSubscription>', token('pw', camNow()), '/onvif/Events');
  const path = new URL(/<wsa:Address>([^<]+)</.exec(created.xml)![1]!).pathname;
  await new Promise((r) => setTimeout(r, 300));
  const r = await soap('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>1</MessageLimit></PullMessages>', token('pw', camNow()), path);
  t.match(r.xml, /ResourceUnknownFault/);
});

t.test('PTZ: a continuous move with a Timeout stops by itself', async (t) => {
  const r = await soap(
    '<ContinuousMove xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken><Velocity><PanTilt xmlns="http://www.onvif.org/ver10/schema" x="1" y="0"/></Velocity><Timeout>PT0.2S</Timeout></ContinuousMove>',
    token('pw', camNow()),
    '/onvif/PTZ',
  );
  t.equal(r.status, 200);
  await new Promise((res) => setTimeout(res, 400));
  t.same(sim.ptz.moving(), { panTilt: false, zoom: false });
  const x = sim.ptz.position().x;
  t.ok(x > 0.05 && x < 0.2, `moved for about 0.2 s at 0.5/s: ${x}`);
  t.match((await soap('<GetStatus xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_9</ProfileToken></GetStatus>', token('pw', camNow()), '/onvif/PTZ')).xml, /InvalidArgVal/);
  t.match((await soap('<SetPreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken><PresetToken>abc</PresetToken></SetPreset>', token('pw', camNow()), '/onvif/PTZ')).xml, /InvalidArgVal/);
});

t.test('xs:duration reading', async (t) => {
  t.equal(durationMs('PT1M'), 60_000);
  t.equal(durationMs('PT0.5S'), 500);
  t.equal(durationMs('P1DT1H'), 90_000_000);
  t.equal(durationMs('P'), undefined);
  t.equal(durationMs('PT'), undefined);
  t.equal(durationMs('60'), undefined);
});

t.test('capabilities, services, interfaces, event properties, PTZ nodes and configurations', async (t) => {
  const auth = () => token('pw', camNow());
  const caps = await soap('<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"><Category>All</Category></GetCapabilities>');
  t.match(caps.xml, new RegExp(`<tt:Events><tt:XAddr>http://127.0.0.1:${sim.port}/onvif/Events</tt:XAddr>.*<tt:WSPullPointSupport>true`));
  const services = await soap('<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"><IncludeCapability>false</IncludeCapability></GetServices>');
  t.equal((services.xml.match(/<tds:Service>/g) ?? []).length, 4);
  t.notMatch(services.xml, /<tds:Capabilities>/, 'no capabilities when not asked');
  t.match((await soap('<GetNetworkInterfaces xmlns="http://www.onvif.org/ver10/device/wsdl"/>', auth())).xml, /<tt:HwAddress>bc:ad:28/);
  const props = await soap('<GetEventProperties xmlns="http://www.onvif.org/ver10/events/wsdl"/>', auth(), '/onvif/Events');
  for (const topic of ['<CellMotionDetector><Motion', '<MotionAlarm', '<TamperDetector><Tamper', '<Trigger><DigitalInput']) t.ok(props.xml.includes(topic), topic);
  t.match((await soap('<GetNodes xmlns="http://www.onvif.org/ver20/ptz/wsdl"/>', auth(), '/onvif/PTZ')).xml, /PTZNode token="PTZNODETOKEN".*MaximumNumberOfPresets>300/);
  t.match((await soap('<GetConfigurations xmlns="http://www.onvif.org/ver20/ptz/wsdl"/>', auth(), '/onvif/PTZ')).xml, /PTZConfiguration token="PTZToken"/);
  t.match((await soap('<GetSnapshotUri xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>nope</ProfileToken></GetSnapshotUri>', auth(), '/onvif/Media')).xml, /InvalidArgVal/);
  t.match((await soap('<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>nope</ProfileToken></GetStreamUri>', auth(), '/onvif/Media')).xml, /InvalidArgVal/);
  t.match((await soap('<RemovePreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken><PresetToken>77</PresetToken></RemovePreset>', auth(), '/onvif/PTZ')).xml, /InvalidArgVal/);
});
