import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../firmware/core/bus.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { ConfigError, ConfigStore } from '../../../firmware/config/store.js';

const boardDefaults = { network: { httpPort: 8080 } };

function fresh(dir = mkdtempSync(join(tmpdir(), 'cfg-')), extra: Partial<ConstructorParameters<typeof ConfigStore>[0]> = {}) {
  const log = memoryLogger('config');
  const store = new ConfigStore({ dir, boardDefaults, log, ...extra });
  return { dir, store, log };
}

const onDisk = (dir: string, file = 'config.json') => JSON.parse(readFileSync(join(dir, file), 'utf8'));

t.test('first boot writes the board factory settings, with the board overrides', async (t) => {
  const { dir, store } = fresh();
  const r = await store.load();
  t.equal(r.source, 'factory');
  t.equal(store.get().network.httpPort, 8080, 'board default applied');
  t.equal(store.get().system.name, 'DVR', 'built-in default kept');
  t.same(onDisk(dir), store.get());
  t.same(onDisk(dir, 'config.last-good.json'), store.get());
});

t.test('round trip: a setting changed survives a restart and announces itself', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  const bus = new EventBus();
  const changes: string[][] = [];
  bus.on('configChanged', (e) => changes.push(e.paths));
  const withBus = new ConfigStore({ dir, boardDefaults, log: memoryLogger(), bus });
  await withBus.load();
  await withBus.set('system.name', 'Shop front');
  await withBus.set('mqtt.password', 's3cret');
  t.same(changes, [['system.name'], ['mqtt.password']]);
  const again = fresh(dir).store;
  t.equal((await again.load()).source, 'file');
  t.equal(again.get().system.name, 'Shop front');
  t.equal(again.getPath('mqtt.password'), 's3cret');
});

t.test('an invalid change is refused and nothing on disk changes', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  const before = readFileSync(join(dir, 'config.json'), 'utf8');
  await t.rejects(store.set('network.httpPort', 70000), /network.httpPort: 70000 is outside 1..65535/);
  await t.rejects(store.set('network.htpPort', 81), /network.htpPort: unknown setting/);
  await t.rejects(store.set('nosuch.thing', 1), /no setting "nosuch.thing"/);
  await t.rejects(store.set('__proto__.polluted', 1), /invalid setting path/);
  await t.rejects(store.replace({ version: CONFIG_VERSION, system: 'x' }), /system: expected an object/);
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), before);
  t.equal(store.get().network.httpPort, 8080, 'memory unchanged too');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('a version 1 config is migrated forward, and the original kept', async (t) => {
  const { dir, store } = fresh();
  const v1 = { version: 1, deviceName: 'Warehouse', httpPort: 8088, timezone: 'Europe/London', mqttUrl: 'mqtt://broker.lan:1883' };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v1));
  const r = await store.load();
  t.equal(r.migratedFrom, 1);
  const c = store.get();
  t.equal(c.version, CONFIG_VERSION);
  t.equal(c.system.name, 'Warehouse');
  t.equal(c.system.timezone, 'Europe/London');
  t.equal(c.network.httpPort, 8088);
  t.same([c.mqtt.enabled, c.mqtt.url], [true, 'mqtt://broker.lan:1883']);
  t.same(JSON.parse(readFileSync(join(dir, 'config.v1.json'), 'utf8')), v1, 'old file kept as config.v1.json');
  t.equal(onDisk(dir).version, CONFIG_VERSION, 'migrated config written');
  t.equal((await fresh(dir).store.load()).migratedFrom, undefined, 'migrates once');
});

t.test('a version 2 config gains the MQTT TLS, discovery and id settings, keeping its own', async (t) => {
  const { dir, store } = fresh();
  const v2 = { version: 2, system: { name: 'Depot' }, mqtt: { enabled: true, url: 'mqtts://broker.lan:8883', username: 'dvr', password: 'pw', baseTopic: 'cctv' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v2));
  t.equal((await store.load()).migratedFrom, 2);
  t.same(store.get().mqtt, {
    ...v2.mqtt,
    deviceId: null,
    clientId: null,
    discoveryPrefix: 'homeassistant',
    tls: { ca: null, insecure: false },
  });
  t.same(JSON.parse(readFileSync(join(dir, 'config.v2.json'), 'utf8')), v2, 'old file kept as config.v2.json');
  const bare = fresh().store;
  writeFileSync(join(bare.file), JSON.stringify({ version: 2 }));
  await bare.load();
  t.equal(bare.get().mqtt.discoveryPrefix, 'homeassistant', 'a v2 config without an mqtt section migrates too');
});

t.test('a version 3 config gains the HTTPS port, keeping its plain HTTP port', async (t) => {
  const { dir, store } = fresh();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 3, network: { httpPort: 8088 } }));
  t.equal((await store.load()).migratedFrom, 3);
  t.same(store.get().network, {
    httpPort: 8088, httpsPort: 443, bindAddress: '0.0.0.0', rtspPort: 554, rtspUdpPort: null,
    lan: { managed: false, dhcp: true, address: null, gateway: null, dns: [] }, ntp: { enabled: true, servers: [] },
  });
});

t.test('a version 4 config gains the storage mode and an empty channel list', async (t) => {
  const { dir, store } = fresh();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 4, system: { name: 'Depot' } }));
  t.equal((await store.load()).migratedFrom, 4);
  t.same([store.get().storage, store.get().channels, store.get().system.name], [{ mode: 'overwrite', maxDays: null }, [], 'Depot']);
  await t.rejects(store.set('channels', [{ id: 'Bad Id', name: 'x', main: { url: 'http://x' } }]), /channels\[0\]\.id: .*does not match.*channels\[0\]\.main\.url: .*does not match/s);
});

t.test('a version 5 config gains the sections of versions 6 and 7, keeping its channels', async (t) => {
  const { dir, store } = fresh();
  const channels = [{ id: 'door', name: 'Door', enabled: true, kind: 'ip', main: { url: 'rtsp://10.0.0.5/stream1', transport: 'tcp' }, username: null, password: null }];
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 5, channels }));
  t.equal((await store.load()).migratedFrom, 5);
  t.same(store.get().channels, channels.map((c) => ({ ...c, sub: null, onvif: null, recording: { mode: 'continuous', schedule: null, maxDays: null, quotaPercent: null } })), 'no sub stream, no ONVIF, recorded all the time: as before');
  t.same(store.get().ptz, { domes: [], onvif: [], tours: [] });
  t.same(store.get().linkage, { rules: [] });
  t.same(store.get().dvrChannels, []);
  t.same(store.get().alarms.inputs, []);
  t.match(store.get().network, { rtspPort: 554, rtspUdpPort: null });
});

t.test('a version 6 config keeps recording its channels all the time', async (t) => {
  const { dir, store } = fresh();
  const dvrChannels = [{ id: 'porch', name: 'Porch', device: '/dev/video0' }];
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 6, channels: [{ id: 'door', name: 'Door', main: { url: 'rtsp://10.0.0.5/stream1' } }], dvrChannels }));
  t.equal((await store.load()).migratedFrom, 6);
  t.same([store.get().channels[0]!.recording, store.get().dvrChannels[0]!.recording], [{ mode: 'continuous', schedule: null, maxDays: null, quotaPercent: null }, { mode: 'continuous', schedule: null, maxDays: null, quotaPercent: null }]);
  await t.rejects(store.set('channels.0.recording.mode', 'sometimes'), /recording\.mode: expected one of continuous, events, off/);
});

t.test('a version 8 config keeps its recording modes and gains no schedule; a schedule is checked letter by letter', async (t) => {
  const { dir, store } = fresh();
  const v8 = { version: 8, channels: [{ id: 'door', name: 'Door', main: { url: 'rtsp://10.0.0.5/stream1' }, recording: { mode: 'events' } }], dvrChannels: [{ id: 'porch', name: 'Porch', device: '/dev/video0', recording: { mode: 'off' } }] };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v8));
  t.equal((await store.load()).migratedFrom, 8);
  t.same([store.get().channels[0]!.recording, store.get().dvrChannels[0]!.recording], [{ mode: 'events', schedule: null, maxDays: null, quotaPercent: null }, { mode: 'off', schedule: null, maxDays: null, quotaPercent: null }]);
  t.equal(onDisk(dir, 'config.v8.json').version, 8, 'the original is kept');
  const week = (day: string) => Array.from({ length: 7 }, () => day);
  const nights = 'M'.repeat(16) + 'C'.repeat(24) + 'E'.repeat(8);
  await store.set('dvrChannels.0.recording.schedule', { days: week(nights) });
  t.same(store.get().dvrChannels[0]!.recording.schedule, { days: week(nights), preSec: 5, postSec: 10 }, 'pre- and post-record default to 5 s and 10 s');
  await t.rejects(store.set('channels.0.recording.schedule', { days: week('C'.repeat(47)) }), /days\[0\]: must be at least 48 characters/);
  await t.rejects(store.set('channels.0.recording.schedule', { days: week('X'.repeat(48)) }), /days\[0\]: .*does not match/);
  await t.rejects(store.set('channels.0.recording.schedule', { days: week('C'.repeat(48)).slice(1) }), /days: at least 7 items/);
  await t.rejects(store.set('channels.0.recording.schedule', { days: [...week('C'.repeat(48)), 'C'.repeat(48)] }), /days: at most 7 items/);
  await t.rejects(store.set('channels.0.recording.schedule', { days: week('c'.repeat(48)), postSec: -1 }), /does not match.*postSec: -1 is outside/s);
  t.equal(store.get().channels[0]!.recording.schedule, null, 'nothing refused was kept');
});

t.test('a version 9 config keeps its analog streams as they were: D1 main, CIF sub, every captured frame', async (t) => {
  const { dir, store } = fresh();
  const v9 = {
    version: 9,
    dvrChannels: [
      { id: 'porch', name: 'Porch', device: '/dev/video0', standard: 'pal', main: { bitrateKbps: 1024, gop: 25 }, sub: { codec: 'h264', bitrateKbps: 256, rateControl: 'cbr', gop: 25, profile: 'baseline' } },
      { id: 'gate', name: 'Gate', device: '/dev/video1', sub: null },
    ],
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v9));
  t.equal((await store.load()).migratedFrom, 9);
  const [porch, gate] = store.get().dvrChannels;
  t.same(porch!.main, { codec: 'h264', resolution: 'D1', fps: null, bitrateKbps: 1024, rateControl: 'vbr', gop: 25, profile: 'main' });
  t.same(porch!.sub, { codec: 'h264', resolution: 'CIF', fps: null, bitrateKbps: 256, rateControl: 'cbr', gop: 25, profile: 'baseline' });
  t.equal(gate!.sub, null, 'no sub stream stays none');
  t.equal(onDisk(dir, 'config.v9.json').version, 9, 'the original is kept');
  t.equal(onDisk(dir).dvrChannels[0].sub.resolution, 'CIF', 'the migrated file names the defaults');
  // dvr config set and the page write by path, validated like any setting.
  await store.set('dvrChannels.0.sub.fps', 6);
  await store.set('dvrChannels.0.sub.resolution', 'QCIF');
  await store.set('dvrChannels.0.main.resolution', 'CIF');
  t.match(store.getPath('dvrChannels.0'), { main: { resolution: 'CIF', fps: null }, sub: { resolution: 'QCIF', fps: 6 } });
  await t.rejects(store.set('dvrChannels.0.main.fps', 30), /^dvrChannels\[0\]\.main\.fps: 30 is above the 25 frames per second of PAL$/);
  await t.rejects(store.set('dvrChannels.0.main.resolution', 'QCIF'), /dvrChannels\[0\]\.main\.resolution: expected one of D1, CIF, got "QCIF"/);
  await t.rejects(store.set('dvrChannels.1.sub', { resolution: 'D1' }), /dvrChannels\[1\]\.sub\.resolution: expected one of CIF, QCIF, got "D1"/);
  await t.rejects(store.set('dvrChannels.0.standard', 'ntsc').then(() => store.set('dvrChannels.0.sub.fps', 31)), /sub\.fps: 31 is outside 1\.\.30/);
  await store.set('dvrChannels.0.sub.fps', 30);
  await t.rejects(store.set('dvrChannels.0.standard', 'pal'), /dvrChannels\[0\]\.sub\.fps: 30 is above the 25 frames per second of PAL/, 'switching the standard is checked against the streams too');
  t.equal(store.get().dvrChannels[0]!.standard, 'ntsc', 'nothing refused was kept');
});

t.test('a config from newer firmware is not guessed at', async (t) => {
  const { dir, store } = fresh();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 99 }));
  await t.rejects(store.load(), /version 99 is newer than this firmware understands/);
});

t.test('a corrupt file: the last good copy is restored and the broken one kept aside', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  await store.set('system.name', 'Keep me');
  for (const broken of ['{"version": 2, "system": {', '', '{"version":2,"network":{"httpPort":"eighty"}}']) {
    writeFileSync(join(dir, 'config.json'), broken);
    const s = fresh(dir).store;
    const r = await s.load();
    t.equal(r.source, 'last-good');
    t.match(r.problems.join('\n'), broken === '' ? /the file is empty/ : broken.includes('eighty') ? /httpPort: expected an integer/ : /not valid JSON/);
    t.equal(s.get().system.name, 'Keep me', 'settings survived');
    t.equal(onDisk(dir).system.name, 'Keep me', 'config.json repaired');
  }
  const kept = readdirSync(dir).filter((f) => f.startsWith('config.json.corrupt-'));
  t.ok(kept.length >= 1, 'broken files kept for diagnosis');
});

t.test('corrupt with no usable last good copy: a clear error, nothing overwritten', async (t) => {
  const { dir, store } = fresh();
  writeFileSync(join(dir, 'config.json'), '{"version": 2, "syst');
  writeFileSync(join(dir, 'config.last-good.json'), 'garbage');
  const err = await store.load().then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, ConfigError);
  t.match((err as Error).message, /config.json is not valid JSON.*no last good copy is usable.*dvr config reset/s);
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"version": 2, "syst', 'the file is left for the installer');
  // The way out: factory reset works even though load failed, and keeps the old file aside.
  await store.reset();
  t.equal(onDisk(dir).network.httpPort, 8080);
  t.ok(readdirSync(dir).some((f) => f.startsWith('config.json.before-reset-')));
});

t.test('factory reset restores the board defaults and is durable', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  await store.set('system.name', 'Custom');
  await store.reset();
  t.equal(store.get().system.name, 'DVR');
  t.equal(onDisk(dir).system.name, 'DVR');
  t.equal(onDisk(dir, 'config.last-good.json').system.name, 'DVR');
});

t.test('read-only inspection never writes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const ro = fresh(join(dir, 'config'), { readOnly: true }).store;
  t.equal((await ro.load()).source, 'factory');
  t.notOk(existsSync(join(dir, 'config')), 'no directory created');
  await t.rejects(ro.set('system.name', 'x'), /read-only/);
});

t.test('invalid board defaults are reported as the board\'s fault', async (t) => {
  const { store } = fresh(undefined, { boardDefaults: { network: { httpPort: 'x' } } });
  await t.rejects(store.load(), /board's configDefaults are invalid/);
});

t.test('concurrent changes are applied in order, none lost', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  await Promise.all([store.set('system.name', 'a'), store.set('mqtt.baseTopic', 'b'), store.set('log.level', 'debug')]);
  const c = onDisk(dir);
  t.same([c.system.name, c.mqtt.baseTopic, c.log.level], ['a', 'b', 'debug']);
});

t.test('a version 10 config gets picture controls at the driver default: null for each', async (t) => {
  const { dir, store } = fresh();
  const v10 = {
    version: 10,
    dvrChannels: [
      { id: 'porch', name: 'Porch', device: '/dev/video0' },
      { id: 'gate', name: 'Gate', device: '/dev/video1', sub: null },
    ],
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(v10));
  t.equal((await store.load()).migratedFrom, 10);
  const none = { brightness: null, contrast: null, saturation: null, hue: null, sharpness: null };
  t.same(store.get().dvrChannels.map((c) => c.image), [none, none]);
  t.same(onDisk(dir).dvrChannels[1].image, none, 'the migrated file names them');
  t.equal(onDisk(dir, 'config.v10.json').dvrChannels[0].image, undefined, 'the original is kept');
  await store.set('dvrChannels.0.image.brightness', 60);
  await store.set('dvrChannels.0.image.hue', 0);
  t.same(store.get().dvrChannels[0]!.image, { ...none, brightness: 60, hue: 0 });
  await t.rejects(store.set('dvrChannels.0.image.contrast', 101), /dvrChannels\[0\]\.image\.contrast: 101 is outside/);
  await t.rejects(store.set('dvrChannels.0.image.gamma', 50), /image\.gamma: unknown setting/);
  t.equal(store.get().dvrChannels[0]!.image.contrast, null, 'nothing refused was kept');
});
