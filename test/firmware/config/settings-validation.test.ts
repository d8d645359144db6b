// Settings an audit found too loose: a time zone Intl does not know, paths
// that walk out of where they appear to point. Refused when set; a zone
// stored by an older firmware is repaired at load rather than failing boot.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { issuesOf } from './issues-of.js';
import { dvrChannelSchema } from '../../../firmware/config/dvr-channels.js';
import { devicePath, filePathProblem, pemOrFilePath } from '../../../firmware/config/file-paths.js';
import { CONFIG_VERSION, configSchema } from '../../../firmware/config/schema.js';
import { ConfigStore } from '../../../firmware/config/store.js';

function fresh(dir = mkdtempSync(join(tmpdir(), 'cfg-'))) {
  const records: LogRecord[] = [];
  const log = new Logger('config', { level: 'debug', sink: (r) => void records.push(r) });
  return { dir, store: new ConfigStore({ dir, log }), records };
}


t.test('system.timezone: a zone Intl does not know is refused, naming the field and the value', async (t) => {
  t.same(issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, system: { timezone: 'Mars/Base' } })), [
    'system.timezone: "Mars/Base" is not a time zone this box knows (an IANA name such as Europe/Paris or UTC)',
  ]);
  for (const z of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT-3']) {
    t.equal(configSchema.parse({ version: CONFIG_VERSION, system: { timezone: z } }).system.timezone, z, z);
  }
  t.match(issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, system: { timezone: 'Europe/Paris; x' } })), [/does not match/], 'the pattern still comes first');
});

t.test('dvr config set / the API: a bad zone is refused and nothing is written', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  const before = readFileSync(join(dir, 'config.json'), 'utf8');
  await t.rejects(store.set('system.timezone', 'Mars/Base'), /system\.timezone: "Mars\/Base" is not a time zone/);
  await t.rejects(store.replace({ ...store.get(), system: { name: 'DVR', timezone: 'Mars/Base' } }), /system\.timezone/);
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), before);
  await store.set('system.timezone', 'Europe/Paris');
  t.equal(store.get().system.timezone, 'Europe/Paris');
});

t.test('a bad zone stored by an older firmware: loaded as UTC with one warning, other settings kept', async (t) => {
  const { dir, store } = fresh();
  await store.load();
  await store.set('system.name', 'Shop');
  // What the old schema let through, in both the file and its last good copy.
  for (const f of ['config.json', 'config.last-good.json']) {
    const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { system: { timezone: string } };
    c.system.timezone = 'Mars/Base';
    writeFileSync(join(dir, f), JSON.stringify(c));
  }
  const again = fresh(dir);
  const r = await again.store.load();
  t.equal(r.source, 'file', 'the file is used, not refused');
  t.match(r.problems, [/system\.timezone "Mars\/Base" is not a time zone this box knows; using UTC/]);
  t.equal(again.store.get().system.timezone, 'UTC');
  t.equal(again.store.get().system.name, 'Shop');
  t.equal(again.records.filter((x) => x.level === 'warn').length, 1, 'one warning');
  await again.store.set('network.httpPort', 8081);
  t.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).system.timezone, 'UTC', 'another change saves the repaired zone, not a refusal');
});

t.test('filePathProblem: absolute, normalized, no dot segments', async (t) => {
  for (const p of ['/etc/ssl/certs/ca.pem', '/var/lib/dvr/mqtt-ca.pem', '/a/.hidden/b..c']) t.equal(filePathProblem(p), null, p);
  t.match(filePathProblem('ca.pem'), /absolute/);
  t.match(filePathProblem('../ca.pem'), /absolute/);
  t.match(filePathProblem('/etc/../root/key'), /"\." or "\.\."/);
  t.match(filePathProblem('/etc/./ca.pem'), /"\." or "\.\."/);
  t.match(filePathProblem('/etc/ssl/..'), /"\." or "\.\."/);
  t.match(filePathProblem('/etc//ca.pem'), /normalized/);
  t.match(filePathProblem('/etc/ssl/'), /normalized/);
  t.match(filePathProblem('/'), /normalized/);
  t.match(filePathProblem('/etc/ca\n.pem'), /control/);
});

t.test('dvrChannels[].device: a normalized path under /dev/', async (t) => {
  for (const d of ['/dev/video0', '/dev/v4l/by-id/usb-Grabber_123-video-index0', '/dev/v4l/by-path/platform-fe9c0000.xhci-usb-0:1.1:1.0-video-index0']) t.equal(devicePath.parse(d), d);
  const base = { id: 'x', name: 'X' };
  t.match(issuesOf(() => dvrChannelSchema.parse({ ...base, device: '/dev/../etc/passwd' })), [/^device: "\/dev\/\.\.\/etc\/passwd" must not contain "\." or "\.\." segments under \/dev\/$/]);
  t.match(issuesOf(() => dvrChannelSchema.parse({ ...base, device: '/dev/./video0' })), [/device: .* segments/]);
  t.match(issuesOf(() => dvrChannelSchema.parse({ ...base, device: '/dev//video0' })), [/device: .* normalized/]);
  t.match(issuesOf(() => dvrChannelSchema.parse({ ...base, device: '/dev/video0/' })), [/device: .* normalized/]);
  t.match(issuesOf(() => dvrChannelSchema.parse({ ...base, device: '/etc/passwd' })), [/device: .* does not match/]);
  t.match(
    issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, dvrChannels: [{ ...base, device: '/dev/../etc/passwd' }] })),
    [/^dvrChannels\[0\]\.device: /],
    'the whole config names the channel',
  );
});

t.test('mqtt.tls.ca: PEM text, or a plain absolute path', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  t.equal(pemOrFilePath.parse(pem), pem, 'PEM text as pasted');
  t.equal(pemOrFilePath.parse(null), null);
  t.equal(pemOrFilePath.parse('/etc/ssl/certs/broker-ca.pem'), '/etc/ssl/certs/broker-ca.pem', 'anywhere the firmware can read');
  const ca = (v: string) => issuesOf(() => configSchema.parse({ version: CONFIG_VERSION, mqtt: { tls: { ca: v } } }));
  t.match(ca('/etc/ssl/../../root/.ssh/id_rsa'), [/^mqtt\.tls\.ca: ".*" is neither PEM text nor a usable file path: must not contain "\." or "\.\." segments$/]);
  t.match(ca('certs/ca.pem'), [/mqtt\.tls\.ca: .*absolute/]);
  t.match(ca('/etc//ca.pem'), [/mqtt\.tls\.ca: .*normalized/]);
  const { store } = fresh();
  await store.load();
  await t.rejects(store.set('mqtt.tls.ca', '/var/../etc/shadow'), /mqtt\.tls\.ca/);
});
