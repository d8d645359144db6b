// The settings an audit found too loose, refused at the API as the page sends
// them: one setting by its dotted path, answered 422 with the field named.
import t from 'tap';
import { adminAndClerk, startWeb } from './web-service.js';

t.test('PATCH /api/v1/config refuses an unknown zone, a device path that walks out of /dev and a relative CA path', async (t) => {
  const { web, config } = await startWeb();
  t.teardown(() => web.stop());
  const { call, admin } = await adminAndClerk(web);
  const before = config.get();
  const zone = await call('PATCH', '/api/v1/config', admin, { path: 'system.timezone', value: 'Mars/Base' });
  t.equal(zone.status, 422);
  t.match(zone.json.error.message, /system\.timezone: "Mars\/Base" is not a time zone this box knows/);
  const device = await call('PATCH', '/api/v1/config', admin, { path: 'dvrChannels', value: [{ id: 'gate', name: 'Gate', device: '/dev/../etc/passwd' }] });
  t.equal(device.status, 422);
  t.match(device.json.error.message, /dvrChannels\[0\]\.device: .* "\." or "\.\." segments/);
  const ca = await call('PATCH', '/api/v1/config', admin, { path: 'mqtt.tls.ca', value: '../../etc/shadow' });
  t.equal(ca.status, 422);
  t.match(ca.json.error.message, /mqtt\.tls\.ca: .*absolute/);
  const proto = await call('PATCH', '/api/v1/config', admin, { path: 'system', value: JSON.parse('{"name": "DVR", "constructor": "x"}') });
  t.equal(proto.status, 422);
  t.match(proto.json.error.message, /system\.constructor: unknown setting/);
  t.same(config.get(), before, 'nothing changed');
  const ok = await call('PATCH', '/api/v1/config', admin, { path: 'system.timezone', value: 'Europe/Paris' });
  t.equal(ok.status, 200);
  t.equal(config.get().system.timezone, 'Europe/Paris');
});
