// "Test connection" of the MQTT settings against a real mosquitto: right and
// wrong credentials, the saved password behind ***, a broker that is not
// there, and settings the config would refuse. Nothing is saved by a test.
import t from 'tap';
import { Broker } from '../../mqtt/broker.js';
import { freePort } from '../../../helpers/firmware.js';
import { adminAndClerk, startWeb } from '../web-service.js';

t.test('MQTT test connection', async (t) => {
  const broker = await Broker.start({ users: { dvr: 'Broker-Pass-2026' } });
  t.teardown(() => broker.stop());
  const { web, config } = await startWeb();
  t.teardown(() => web.stop());
  const { call, admin, clerk } = await adminAndClerk(web);
  const test = (body: unknown, who = admin) => call('POST', '/api/v1/mqtt/test', who, body);

  const good = await test({ url: broker.url, username: 'dvr', password: 'Broker-Pass-2026' });
  t.equal(good.status, 200);
  t.equal(good.json.ok, true, `the broker accepts the settings (${good.json.ms} ms)`);
  t.equal(config.get().mqtt.url, 'mqtt://localhost:1883', 'nothing was saved');

  const wrong = await test({ url: broker.url, username: 'dvr', password: 'Not-The-Pass-1' });
  t.equal(wrong.json.ok, false);
  t.match(wrong.json.error, /the broker refused the login for user "dvr"/, `a wrong password is said in words: ${wrong.json.error}`);
  t.notMatch(JSON.stringify(wrong.json), /Not-The-Pass-1/, 'the password is not echoed');

  await config.set('mqtt', { ...config.get().mqtt, url: broker.url, username: 'dvr', password: 'Broker-Pass-2026' });
  t.equal((await test({ password: '***' })).json.ok, true, '*** tries the saved password');
  t.equal((await test({})).json.ok, true, 'an empty body tries the saved settings');

  const absent = await test({ url: `mqtt://127.0.0.1:${await freePort()}` });
  t.equal(absent.json.ok, false);
  t.match(absent.json.error, /connection refused/, `a broker that is not there: ${absent.json.error}`);
  const withSecret = await test({ url: `mqtt://dvr:Url-Secret-99@127.0.0.1:${await freePort()}` });
  t.notMatch(JSON.stringify(withSecret.json), /Url-Secret-99/, 'a password inside the URL is not echoed either');

  for (const [body, why] of [
    [{ url: 'http://broker' }, 'a URL that is not mqtt:// or mqtts://'],
    [{ url: 'mqtt://a b' }, 'a URL with a space'],
    [{ username: 5 }, 'a user name that is not a string'],
    [[1, 2], 'not an object'],
    [{ nosuch: true }, 'an unknown setting'],
  ] as const) {
    const r = await test(body);
    t.equal(r.status, 422, `${why}: 422 (${r.json.error.message})`);
  }
  t.equal((await test({}, clerk)).status, 403, 'an operator: 403');
  t.equal((await call('POST', '/api/v1/mqtt/test', {}, {})).status, 401, 'no session: 401');
});
