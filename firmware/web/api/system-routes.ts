import { int, json, literal, object, string } from '../../core/schema.js';
import { redact, type LogRecord } from '../../core/log.js';
import type { Clock } from '../../core/clock.js';
import { SchemaError } from '../../core/schema.js';
import { MigrationError } from '../../config/migrations.js';
import type { ConfigStore } from '../../config/store.js';
import type { AuditLog } from '../audit.js';
import { HttpError } from '../http/errors.js';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS, type Router } from '../http/router.js';
import { keepSecrets, shownConfig, shownConfigSchema } from './config-routes.js';

export interface SystemRouteDeps {
  config: ConfigStore;
  audit: AuditLog;
  clock: Clock;
  version: string;
  board: string;
  /** The firmware's recent log records, oldest first (the same ring as `dvr logs`). */
  logs: () => LogRecord[];
}

/** A file download with the router's security headers (CSP, nosniff, no-store). */
function download(res: ServerResponse, type: string, name: string, body: string): undefined {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-disposition': `attachment; filename="${name}"` });
  res.end(body);
  return undefined;
}

const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '');
const fileName = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dvr';

/**
 * Maintenance: what the box is, its recent log, and its settings as a file
 * to keep and to restore. A backup holds no secret (they read "***", as in
 * the settings pages); a restore keeps the box's own secrets where the file
 * says "***", matched by item id, so a backup taken here restores here
 * whole, and on a replacement box asks only for the passwords again.
 */
export function addSystemRoutes(router: Router, d: SystemRouteDeps): void {
  const startedAt = d.clock.now();
  router.add({
    method: 'GET', path: '/api/v1/system', access: 'admin', summary: 'firmware version, board, name, clock and uptime',
    response: {
      json: object({
        name: string(),
        version: string(),
        board: string(),
        time: string().describe('the clock now, ISO 8601 UTC'),
        timezone: string().describe('system.timezone'),
        uptimeS: int({ min: 0 }).describe('seconds since the web service started'),
        configVersion: int({ min: 1 }),
      }),
    },
    handler: async () => {
      const c = d.config.get();
      return { body: { name: c.system.name, version: d.version, board: d.board, time: new Date(d.clock.now()).toISOString(), timezone: c.system.timezone, uptimeS: Math.round((d.clock.now() - startedAt) / 1000), configVersion: c.version } };
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/system/logs', access: 'admin', summary: 'the recent log records as a JSON-lines download (?n= newest, ≤ 2000)',
    response: { file: 'application/x-ndjson', description: 'a download (<name>-log-<time>.jsonl): one log record a line ({t, level, svc, msg, ...fields}), secrets redacted' },
    handler: async ({ query, res, account, from }) => {
      const n = Number(query.get('n') ?? 2000);
      if (!Number.isInteger(n) || n < 1) throw new HttpError(400, 'bad-request', 'n: a positive whole number');
      const records = d.logs().slice(-n);
      await d.audit.record('export', account!.name, from, { what: 'logs', records: records.length });
      const text = records.map((r) => JSON.stringify(redact(r))).join('\n') + (records.length ? '\n' : '');
      return download(res, 'application/x-ndjson', `${fileName(d.config.get().system.name)}-log-${stamp(d.clock.now())}.jsonl`, text);
    },
  });

  router.add({
    method: 'GET', path: '/api/v1/system/backup', access: 'admin', summary: 'the settings as a JSON download, secrets as ***',
    response: { file: 'application/json', json: shownConfigSchema, description: 'a download (<name>-config-<time>.json) to restore later' },
    handler: async ({ res, account, from }) => {
      const c = d.config.get();
      await d.audit.record('export', account!.name, from, { what: 'config backup' });
      return download(res, 'application/json', `${fileName(c.system.name)}-config-${stamp(d.clock.now())}.json`, JSON.stringify(shownConfig(c), null, 2) + '\n');
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/system/restore', access: 'admin', summary: 'replace every setting with a backup (older versions migrated); *** keeps the stored secret; some settings apply at the next start',
    body: json(), maxBodyBytes: 1024 * 1024,
    response: { json: object({ restored: literal(true), version: int({ min: 1 }).describe('the config version, after migration'), name: string() }) },
    handler: async ({ body, account, from }) => {
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(422, 'invalid', 'a backup is a JSON object (the file made by Backup)');
      let restored;
      try {
        restored = await d.config.replace(keepSecrets(body, d.config.get()));
      } catch (e) {
        if (e instanceof SchemaError || e instanceof MigrationError) throw new HttpError(422, 'invalid', `not restored, nothing changed: ${e.message}`);
        throw e;
      }
      await d.audit.record('config-restored', account!.name, from, { version: restored.version });
      return { body: { restored: true as const, version: restored.version, name: restored.system.name } };
    },
  });
}
