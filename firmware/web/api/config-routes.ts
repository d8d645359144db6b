import { json, object, string } from '../../core/schema.js';
import { redact } from '../../core/log.js';
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

/** The same validated config as `dvr config`, for the settings pages. Secrets are never sent back. */
export function addConfigRoutes(router: Router, d: ConfigRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/config', access: 'admin', summary: 'the whole config, secrets replaced by ***',
    handler: async () => ({ body: { config: redact(d.config.get()) } }),
  });

  router.add({
    method: 'PATCH', path: '/api/v1/config', access: 'admin', summary: 'change one setting by its dotted path',
    body: object({ path: string({ min: 1, max: 200 }), value: json() }),
    handler: async ({ body, account, from }) => {
      try {
        await d.config.set(body.path, body.value);
      } catch (e) {
        if (e instanceof SchemaError || e instanceof SettingPathError) throw new HttpError(422, 'invalid', e.message);
        throw e;
      }
      await d.audit.record('setting-changed', account!.name, from, { path: body.path });
      // Redact by the setting's own name, so a changed password is never echoed back.
      const leaf = body.path.split('.').at(-1)!;
      const shown = (redact({ [leaf]: d.config.getPath(body.path) }) as Record<string, unknown>)[leaf];
      return { body: { path: body.path, value: shown } };
    },
  });
}
