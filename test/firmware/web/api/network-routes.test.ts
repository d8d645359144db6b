// The network page's API: the box's addresses as they are, and "Test" of an
// NTP server against a real one (Debian's chronyd on a loopback port).
import t from 'tap';
import { startChronyd } from '../../net/ntp/chronyd.js';
import { adminAndClerk, startWeb } from '../web-service.js';
import { freeUdpPort } from '../../net/ntp/fake-server.js';

t.test('GET /api/v1/network: the addresses the box has, unmanaged without a network service; admin only', async (t) => {
  const { web } = await startWeb();
  t.teardown(() => web.stop());
  const { call, admin, clerk } = await adminAndClerk(web);
  const r = await call('GET', '/api/v1/network', admin);
  t.equal(r.status, 200);
  t.equal(r.json.managed, false);
  t.equal(r.json.lastApply, null);
  t.ok(Array.isArray(r.json.addresses) && r.json.addresses.every((i: { addresses: { address: string }[] }) => i.addresses.every((a) => a.address !== '127.0.0.1')), 'no loopback address');
  t.ok(Math.abs(Date.parse(r.json.time) - Date.now()) < 5000, 'the box\'s clock');
  t.equal((await call('GET', '/api/v1/network', clerk)).status, 403, 'an operator may not see it');
});

t.test('POST /api/v1/network/ntp-test: a real server answers with its stratum and the clock offset; a dead one is a clear failure', async (t) => {
  const server = await startChronyd();
  if ('skip' in server) {
    t.skip(server.skip, () => {});
    return;
  }
  t.teardown(() => server.stop());
  const { web, config } = await startWeb({ ntpPort: server.port });
  t.teardown(() => web.stop());
  const { call, admin, clerk } = await adminAndClerk(web);

  const ok = await call('POST', '/api/v1/network/ntp-test', admin, { server: '127.0.0.1' });
  t.equal(ok.status, 200);
  t.match(ok.json, { ok: true, server: '127.0.0.1', address: '127.0.0.1', stratum: 8 });
  t.ok(Math.abs(ok.json.offsetMs) < 1000 && ok.json.delayMs >= 0, `offset ${ok.json.offsetMs} ms, delay ${ok.json.delayMs} ms`);

  const none = await call('POST', '/api/v1/network/ntp-test', admin, {});
  t.equal(none.status, 422, 'no server typed and none set');
  t.match(none.json.error.message, /no NTP server is set/);

  await config.set('network.ntp.servers', ['127.0.0.2', '127.0.0.1']);
  const listed = await call('POST', '/api/v1/network/ntp-test', admin, {});
  t.match(listed.json, { ok: true, server: '127.0.0.1', stratum: 8 }, 'the configured servers in order: the first that answers');

  await server.stop();
  const dead = await call('POST', '/api/v1/network/ntp-test', admin, { server: '127.0.0.1' });
  t.equal(dead.status, 200);
  t.match(dead.json, { ok: false, server: '127.0.0.1', error: /127\.0\.0\.1/ }, `a stopped server: ${dead.json.error}`);

  for (const bad of ['pool.ntp.org; reboot', '$(reboot)', 'a b', 'x'.repeat(300)]) {
    const r = await call('POST', '/api/v1/network/ntp-test', admin, { server: bad });
    t.equal(r.status, 422, `refused: ${JSON.stringify(bad.slice(0, 24))}`);
  }
  t.equal((await call('POST', '/api/v1/network/ntp-test', clerk, { server: '127.0.0.1' })).status, 403, 'an operator may not');
});

t.test('the NTP test of an address with no NTP server: a clear failure, at once', async (t) => {
  const port = await freeUdpPort();
  const { web } = await startWeb({ ntpPort: port });
  t.teardown(() => web.stop());
  const { call, admin } = await adminAndClerk(web);
  // 192.0.2.1 (TEST-NET-1) is never routed: no reply and no ICMP either, or an unreachable network at once.
  const t0 = Date.now();
  const r = await call('POST', '/api/v1/network/ntp-test', admin, { server: '192.0.2.1' });
  t.match(r.json, { ok: false, server: '192.0.2.1' }, r.json.error);
  t.ok(Date.now() - t0 < 6000, `answered in ${Date.now() - t0} ms`);
});
