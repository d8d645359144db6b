import type { ConfigStore } from '../../config/store.js';
import { redact } from '../../core/log.js';
import { SnapshotError } from '../../snapshots/http-jpeg.js';
import type { LiveSnapshots } from '../../snapshots/live.js';
import { rightsOn } from '../auth/roles.js';
import { forbidden, HttpError, notFound } from '../http/errors.js';
import { SECURITY_HEADERS, type Router } from '../http/router.js';

/**
 * `GET /api/v1/channels/:channel/snapshot.jpg`: the channel's picture now,
 * for the page's live view where the browser cannot play the stream (H.265).
 * The `live` right, as for the live socket; nothing is stored.
 */
export function addSnapshotRoutes(router: Router, d: { config: ConfigStore; snapshots: () => Pick<LiveSnapshots, 'take'> | undefined }): void {
  router.add({
    method: 'GET', path: '/api/v1/channels/:channel/snapshot.jpg', access: 'viewer', summary: "a fresh JPEG of the channel for viewing (live right; not stored; shared by viewers within a second)",
    response: { file: 'image/jpeg', description: 'the picture, not cached' },
    handler: async ({ params, account, req, res }) => {
      const channel = params.channel!;
      if (!rightsOn(account!.role, account!.channels, channel).includes('live')) throw forbidden(`no live right on channel ${channel}`);
      const c = d.config.get();
      const ch = c.channels.find((x) => x.id === channel) ?? c.dvrChannels.find((x) => x.id === channel);
      if (!ch?.enabled) throw notFound(`no channel "${channel}"`);
      const snapshots = d.snapshots();
      if (!snapshots) throw new HttpError(503, 'no-snapshot', 'snapshots are not available yet: the box is starting');
      let jpeg: Uint8Array;
      try {
        jpeg = (await snapshots.take(channel)).jpeg;
      } catch (e) {
        throw snapshotError(channel, e, 'password' in ch ? ch.password : null);
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : jpeg);
      return undefined;
    },
  });
}

/** What went wrong, in words, without the camera's password or any user:password@ in a URL, whatever produced the text. */
function snapshotError(channel: string, e: unknown, password: string | null): HttpError {
  let message = String(redact(e instanceof Error ? e.message : String(e)));
  if (password) message = message.split(password).join('***');
  message = `no picture from channel ${channel}: ${message.slice(0, 300)}`;
  if (e instanceof SnapshotError && e.unavailable) return new HttpError(503, 'no-snapshot', message);
  return new HttpError(502, 'snapshot-failed', message);
}
