// A started WebService on loopback with free ports, its data in a new temp dir.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { WebService, type WebServiceDeps } from '../../../firmware/web/web-service.js';

export async function startWeb(extra: Partial<WebServiceDeps> = {}): Promise<{ web: WebService; config: ConfigStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'web-'));
  const config = new ConfigStore({ dir: join(dir, 'config'), log: memoryLogger() });
  await config.load();
  const web = new WebService({
    log: memoryLogger('web'),
    clock: systemClock,
    config,
    dataDir: dir,
    listen: () => ({ host: '127.0.0.1', httpPort: 0, httpsPort: 0 }),
    status: () => [],
    ...extra,
  });
  await web.start();
  return { web, config, dir };
}

/** HTTPS to a started WebService, pinning its own certificate; JSON in and out, and the session cookie it sets. */
export function caller(web: WebService) {
  return (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    new Promise<{ status: number; json: any; cookie: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: web.ports!.https, path, method, ca: web.certificate!.cert, servername: 'localhost', headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null, cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
}

export const INSTALLER = { name: 'installer', password: 'Install-Er-2026' };

/** The first-boot admin ("installer") and an operator ("clerk"), each as the headers of its session. */
export async function adminAndClerk(web: WebService) {
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, INSTALLER);
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  await web.users!.addUser('clerk', 'operator', 'Night-Shift-77');
  const c = await call('POST', '/api/v1/login', {}, { name: 'clerk', password: 'Night-Shift-77' });
  const clerk = { cookie: c.cookie, 'x-csrf-token': c.json.csrf as string };
  return { call, admin, clerk };
}
