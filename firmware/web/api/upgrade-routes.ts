import type { Readable } from 'node:stream';
import { array, int, nullable, object, oneOf, string, type Schema } from '../../core/schema.js';
import type { AuditLog } from '../audit.js';
import { HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';
import { MAX_BUNDLE_BYTES } from '../../upgrade/bundle.js';
import { UpgradeError } from '../../upgrade/errors.js';
import type { Installed, Upgrader, UpgradeStatus } from '../../upgrade/installer.js';
import { AFTER_REPLY_MS, RESTART_KINDS, type RestartKind } from './maintenance-routes.js';

export interface UpgradeRouteDeps {
  audit: AuditLog;
  /** The running firmware's version. */
  version: string;
  /** The installer of this board (none: the board takes no upgrade, the routes say so). */
  upgrader: () => Upgrader | undefined;
  /** The same restart as the restart route; after an install the new slot runs from it. */
  restart?: { kind: RestartKind; run: () => void };
}

/** Reads and drops what is left of a refused upload, so the browser gets the answer rather than a reset connection. */
async function drain(req: Readable, maxBytes: number): Promise<boolean> {
  let n = 0;
  // A new iterator: the installer's ended when it refused, and one that ended reads nothing more.
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    n += (chunk as Buffer).length;
    if (n > maxBytes) return false;
  }
  return true;
}

const version = string({ min: 1, max: 64 });
const statusSchema: Schema<UpgradeStatus> = object({
  running: version,
  current: nullable(string()).describe('the slot that starts next'),
  previous: nullable(string()).describe('the slot a rollback returns to'),
  slots: array(string()),
  trustedKeys: array(string()).describe('ids of the signing keys the board profile trusts'),
});
const installedSchema: Schema<Installed> = object({
  version,
  previous: nullable(string()),
  files: int({ min: 0 }),
  bytes: int({ min: 0 }),
  key: string().describe('id of the key that signed it'),
});

/**
 * Firmware upgrade by upload: the bundle (firmware/upgrade/) streamed to
 * the data partition, checked whole (signature by a key the board profile
 * trusts, board, version, payload hash), unpacked into a new slot, made
 * current, and the box restarted. A refused bundle changes nothing and the
 * answer says why.
 */
export function addUpgradeRoutes(router: Router, d: UpgradeRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/system/upgrade', access: 'admin', summary: 'firmware slots: the running version, the installed (current) and previous slots, the trusted signing keys',
    response: {
      json: object({
        running: version,
        upgrade: nullable(statusSchema).describe('null: this board takes no upgrade'),
        maxBytes: int({ min: 1 }).describe('the largest bundle accepted'),
      }),
    },
    handler: async () => ({ body: { running: d.version, upgrade: (await d.upgrader()?.status()) ?? null, maxBytes: d.upgrader()?.maxBytes ?? MAX_BUNDLE_BYTES } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/system/upgrade', access: 'admin', stream: { contentType: 'application/octet-stream', maxBytes: MAX_BUNDLE_BYTES },
    summary:
      'install a signed firmware bundle (the file as application/octet-stream; ?allowDowngrade=true for a version not newer than the running one); 422 with the reason for a refused bundle, nothing installed; then the box restarts into the new version',
    response: {
      json: object({
        installed: installedSchema,
        restarting: nullable(oneOf(RESTART_KINDS)).describe('null: the new version runs from the next start'),
        note: string(),
      }),
    },
    handler: async ({ req, query, account, from }) => {
      const upgrader = d.upgrader();
      if (!upgrader) throw new HttpError(503, 'unavailable', 'this board takes no firmware upgrade (its board profile has no upgrade section)');
      const allowDowngrade = query.get('allowDowngrade') === 'true';
      let installed;
      try {
        installed = await upgrader.upgrade(req.iterator({ destroyOnReturn: false }), { allowDowngrade });
      } catch (e) {
        if (!(e instanceof UpgradeError)) throw e;
        await d.audit.record('firmware-upgrade', account!.name, from, { installed: false, reason: e.message });
        const drained = e.status === 422 && (await drain(req, upgrader.maxBytes));
        throw new HttpError(e.status, e.status === 422 ? 'bundle-refused' : e.status === 413 ? 'too-large' : 'busy', `firmware not installed, ${d.version} stays: ${e.message}`, drained ? {} : { connection: 'close' });
      }
      await d.audit.record('firmware-upgrade', account!.name, from, { installed: true, version: installed.version, previous: installed.previous, key: installed.key, allowDowngrade });
      if (d.restart) setTimeout(d.restart.run, AFTER_REPLY_MS);
      return {
        body: {
          installed,
          restarting: d.restart?.kind ?? null,
          note: d.restart
            ? `version ${installed.version} is installed; the ${d.restart.kind} restarts now and the new version takes over at that restart`
            : `version ${installed.version} is installed and takes over at the next start of the firmware`,
        },
      };
    },
  });
}
