// A started WebService on loopback with free ports, its data in a new temp dir.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
