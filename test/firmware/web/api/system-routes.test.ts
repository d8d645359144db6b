// Maintenance over the API: version, logs download, config backup and restore.
import t from 'tap';
import { request } from 'node:https';
import { memoryLogger } from '../../../../firmware/core/log.js';
import type { WebService } from '../../../../firmware/web/web-service.js';
import { caller, startWeb } from '../web-service.js';

/** GET with the raw text and headers (downloads are not JSON envelopes). */
function download(web: WebService, path: string, cookie: string) {
  return new Promise<{ status: number; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.ports!.https, path, ca: web.certificate!.cert, servername: 'localhost', headers: { cookie } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('backup, restore, logs and version', async (t) => {
  const ring = memoryLogger('fw');
  ring.info('camera streaming', { channel: 'yard', url: 'rtsp://admin:Secret-99@10.0.0.5/main' });
  const { web, config } = await startWeb({ version: '1.2.3', board: 'sim', logs: () => ring.ring.tail() });
  t.teardown(() => web.stop());
  await config.set('system.name', 'Yard Gate');
  await config.set('channels', [{ id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:1/a' }, username: 'admin', password: 'Cam-Pass-42' }]);
  const https = caller(web);
  const admin = (await https('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' })).cookie;
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77');
  const guard = (await https('POST', '/api/v1/login', {}, { name: 'guard', password: 'Night-Shift-77' })).cookie;
  const csrf = (await https('GET', '/api/v1/me', { cookie: admin })).json.csrf as string;
  const post = (body: unknown, cookie = admin) => https('POST', '/api/v1/system/restore', { cookie, 'x-csrf-token': csrf }, body);

  t.match((await https('GET', '/api/v1/system', { cookie: admin })).json, { name: 'Yard Gate', version: '1.2.3', board: 'sim' });
  for (const path of ['/api/v1/system', '/api/v1/system/backup', '/api/v1/system/logs']) t.equal((await download(web, path, guard)).status, 403, `${path}: administrators only`);

  const backup = await download(web, '/api/v1/system/backup', admin);
  t.equal(backup.status, 200);
  t.match(backup.headers['content-disposition'], /^attachment; filename="yard-gate-config-\d{8}T\d{6}\.json"$/);
  const saved = JSON.parse(backup.text) as { system: { name: string }; channels: { password: string }[] };
  t.equal(saved.channels[0]!.password, '***', 'no secret in the file');
  t.notMatch(backup.text, /Cam-Pass-42/);

  // The box changes, then the backup comes back.
  await config.set('system.name', 'Changed');
  await config.set('channels.0.name', 'Changed too');
  const r = await post(saved);
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.equal(config.get().system.name, 'Yard Gate', 'the settings are the backup again');
  t.equal(config.get().channels[0]!.name, 'Yard');
  t.equal(config.get().channels[0]!.password, 'Cam-Pass-42', "*** kept the camera's stored password");

  const before = JSON.stringify(config.get());
  const bad = await post({ ...saved, network: { ...(saved as unknown as { network: object }).network, httpsPort: 70000 } });
  t.equal(bad.status, 422);
  t.match(bad.json.error.message, /not restored, nothing changed: .*httpsPort/);
  t.equal(JSON.stringify(config.get()), before, 'a bad backup changes nothing');
  t.equal((await post([1, 2])).status, 422, 'not an object: refused');
  t.equal((await post(saved, guard)).status, 403, 'a viewer cannot restore');

  const logs = await download(web, '/api/v1/system/logs', admin);
  t.equal(logs.status, 200);
  t.match(logs.text, /camera streaming/);
  t.notMatch(logs.text, /Secret-99/, 'a password in a logged URL is not in the download');
  const audit = (await https('GET', '/api/v1/audit?n=50', { cookie: admin })).json.records as { action: string; detail?: { what?: string } }[];
  t.ok(audit.some((a) => a.action === 'config-restored'), 'the restore is audited');
  t.ok(audit.some((a) => a.action === 'export' && a.detail?.what === 'config backup'), 'and the backup');
});
