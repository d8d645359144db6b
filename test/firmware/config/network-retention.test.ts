// Config v12: the box's LAN address, DNS and NTP servers, and how long
// recordings are kept (days per box and per channel, a channel's share of the
// disks). Refused with the field named when wrong; a v11 file migrates with
// the behaviour it had (the OS's own address, recordings kept until overwritten).
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../firmware/core/log.js';
import { issuesOf } from './issues-of.js';
import { CONFIG_VERSION, configSchema } from '../../../firmware/config/schema.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { retentionFor } from '../../../firmware/wiring/recording.js';

const withLan = (lan: unknown) => ({ version: CONFIG_VERSION, network: { lan } });
const cam = (id: string, recording: Record<string, unknown> = {}) => ({ id, name: id, main: { url: `rtsp://10.0.0.9/${id}` }, recording });

t.test('network.lan: DHCP by default; a static address needs its prefix, a host address and a gateway inside it', async (t) => {
  t.same(configSchema.parse({ version: CONFIG_VERSION }).network.lan, { managed: true, dhcp: true, address: null, gateway: null, dns: [] });
  const ok = configSchema.parse(withLan({ dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] }));
  t.same(ok.network.lan, { managed: true, dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] });
  t.same(issuesOf(() => configSchema.parse(withLan({ dhcp: false }))), ['network.lan: a static address is needed when dhcp is false']);
  t.ok(configSchema.parse(withLan({ managed: false, dhcp: false })), 'not managed: nothing is needed');
  t.match(issuesOf(() => configSchema.parse(withLan({ dhcp: false, address: '192.168.1.64' }))), [/network\.lan\.address: .*does not match/]);
  t.same(issuesOf(() => configSchema.parse(withLan({ dhcp: false, address: '192.168.1.300/24' }))), [
    'network.lan.address: "192.168.1.300/24" is not an IPv4 address with its prefix length (for example 192.168.1.64/24)',
  ]);
  t.same(issuesOf(() => configSchema.parse(withLan({ dhcp: false, address: '192.168.1.255/24' }))), [
    "network.lan.address: 192.168.1.255/24 is the network's or its broadcast address, not a host's",
  ]);
  t.same(issuesOf(() => configSchema.parse(withLan({ dhcp: false, address: '192.168.1.64/24', gateway: '192.168.2.1' }))), [
    'network.lan.gateway: 192.168.2.1 is outside 192.168.1.64/24: the box could not reach it',
  ]);
  t.ok(configSchema.parse(withLan({ dhcp: false, address: '10.1.200.7/16', gateway: '10.1.0.1' })), 'a gateway anywhere inside a /16');
  t.match(issuesOf(() => configSchema.parse(withLan({ dns: ['1.1.1.1; reboot'] }))), [/network\.lan\.dns\[0\]: .*does not match/], 'no shell text in a DNS server');
  t.match(issuesOf(() => configSchema.parse(withLan({ dns: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] }))), [/network\.lan\.dns/], 'at most 3 DNS servers');
});

t.test('network.ntp: the servers DHCP gives by default; host names or addresses only', async (t) => {
  t.same(configSchema.parse({ version: CONFIG_VERSION }).network.ntp, { enabled: true, servers: [] });
  t.same(configSchema.parse({ version: CONFIG_VERSION, network: { ntp: { servers: ['ntp.lan', '192.168.1.1'] } } }).network.ntp.servers, ['ntp.lan', '192.168.1.1']);
  for (const bad of ['ntp://pool.ntp.org', 'pool.ntp.org:123', 'a b', 'x\n[Time]', '-lead.example']) {
    t.match(issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, network: { ntp: { servers: [bad] } } })), [/network\.ntp\.servers\[0\]: .*does not match/], `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('retention: the box\'s days, a channel\'s own days and share of the disks', async (t) => {
  const c = configSchema.parse({
    version: CONFIG_VERSION,
    storage: { maxDays: 30 },
    channels: [cam('door', { maxDays: 7, quotaPercent: 25 }), cam('yard')],
  });
  t.same(retentionFor(c), {
    mode: 'overwrite',
    channels: { door: { maxAgeMs: 7 * 86_400_000, quota: 0.25 }, yard: { maxAgeMs: 30 * 86_400_000 } },
  });
  const none = configSchema.parse({ version: CONFIG_VERSION, storage: { mode: 'stop' }, channels: [cam('yard')] });
  t.same(retentionFor(none), { mode: 'stop', channels: { yard: {} } }, 'no days anywhere: kept until overwritten');
  t.match(issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, channels: [cam('door', { quotaPercent: 0 })] })), [/channels\[0\]\.recording\.quotaPercent: 0 is outside 1\.\.100/]);
  t.match(issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, storage: { maxDays: 0 } })), [/storage\.maxDays/]);
});

t.test('a v11 config migrates to v12 keeping every setting, its LAN address left to the OS and no retention limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const v11 = {
    version: 11,
    system: { name: 'Shop', timezone: 'Europe/Paris' },
    network: { httpsPort: 8443 },
    storage: { mode: 'stop' },
    channels: [{ ...cam('door'), recording: { mode: 'events', schedule: null } }],
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v11));
  const store = new ConfigStore({ dir, log: new Logger('config', { level: 'error', sink: () => {} }) });
  await store.load();
  const c = store.get();
  t.equal(c.version, 12);
  t.equal(c.system.name, 'Shop');
  t.equal(c.network.httpsPort, 8443);
  t.same(c.network.lan, { managed: false, dhcp: true, address: null, gateway: null, dns: [] }, 'the address the box already has is not taken over');
  t.equal(c.storage.mode, 'stop');
  t.equal(c.storage.maxDays, null);
  t.same(c.channels[0]!.recording, { mode: 'events', schedule: null, maxDays: null, quotaPercent: null });
  t.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).version, 12, 'the file on disk is rewritten at v12');
});
