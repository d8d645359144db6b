import { json, object, string } from '../../core/schema.js';
import { isSecretKey, redact } from '../../core/log.js';
import { configSchema } from '../../config/schema.js';
import { SchemaError } from '../../core/schema.js';
import { SettingPathError } from '../../config/paths.js';
import type { ConfigStore } from '../../config/store.js';
import type { AuditLog } from '../audit.js';
import { HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';

export interface ConfigRouteDeps {
  config: ConfigStore;
  audit: AuditLog;
}

/** The config as the API shows it (GET /api/v1/config, the backup file): secrets, and passwords inside URLs, read "***". */
export const shownConfigSchema = configSchema.describe('the config; every secret (passwords, and the password inside a URL) reads "***"');

/** The config, or a part of it, with its secrets as "***" and nothing else changed: redaction keeps the shape, at any depth. */
export function shownConfig<T>(value: T): T {
  return redact(value, 0, Infinity) as T;
}

/** The same validated config as `dvr config`, for the settings pages. Secrets are never sent back. */
export function addConfigRoutes(router: Router, d: ConfigRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/config', access: 'admin', summary: 'the whole config, secrets replaced by ***',
    response: { json: object({ config: shownConfigSchema }) },
    handler: async () => ({ body: { config: shownConfig(d.config.get()) } }),
  });

  router.add({
    method: 'GET', path: '/api/v1/config/schema', access: 'admin', summary: 'the config as JSON Schema: types, limits, defaults and descriptions (the settings pages are built from it)',
    response: { json: object({ schema: json().describe('a JSON Schema (2020-12) object: open-ended, it describes every setting') }) },
    handler: async () => ({ body: { schema: configSchema.toJsonSchema() } }),
  });

  router.add({
    method: 'PATCH', path: '/api/v1/config', access: 'admin', summary: 'change one setting by its dotted path',
    body: object({ path: string({ min: 1, max: 200 }), value: json() }),
    response: { json: object({ path: string({ min: 1, max: 200 }), value: json().describe('the setting as stored now (defaults filled in), a secret as "***"') }) },
    handler: async ({ body, account, from }) => {
      try {
        let current: unknown;
        try {
          current = d.config.getPath(body.path);
        } catch {
          current = undefined; // a new array item
        }
        const leaf = body.path.split('.').at(-1)!;
        await d.config.set(body.path, isSecretKey(leaf) && body.value === '***' ? current : keepSecrets(body.value, current));
      } catch (e) {
        if (e instanceof SchemaError || e instanceof SettingPathError) throw new HttpError(422, 'invalid', e.message);
        throw e;
      }
      await d.audit.record('setting-changed', account!.name, from, { path: body.path });
      // Redact by the setting's own name, so a changed password is never echoed back.
      const name = body.path.split('.').at(-1)!;
      const shown = shownConfig({ [name]: d.config.getPath(body.path) })[name];
      return { body: { path: body.path, value: shown } };
    },
  });
}

/**
 * The page only ever sees secrets as "***": a section written back with that
 * placeholder keeps the stored secret (array items matched by their id, so
 * removing a channel does not hand its password to the next one).
 */
export function keepSecrets(next: unknown, current: unknown): unknown {
  if (Array.isArray(next)) {
    const old = Array.isArray(current) ? current : [];
    return next.map((item, i) => {
      const id = (item as { id?: unknown } | null)?.id;
      const match = id !== undefined ? old.find((o) => (o as { id?: unknown } | null)?.id === id) : old[i];
      return keepSecrets(item, match);
    });
  }
  if (next && typeof next === 'object') {
    const old = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
    // Own properties only, on both sides: a "__proto__" key stays a key (the schema refuses it), never the result's prototype,
    // and "constructor" is not matched with Object's own.
    const mine = (k: string) => (Object.hasOwn(old, k) ? old[k] : undefined);
    return Object.fromEntries(Object.entries(next).map(([k, v]) => [k, isSecretKey(k) && v === '***' ? mine(k) : keepSecrets(v, mine(k))]));
  }
  return next;
}
