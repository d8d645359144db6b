import { RestreamService, type LiveChannels } from '../restream/restream-service.js';
import { RtspCredentials } from '../restream/rtsp-credentials.js';
import type { PasswordHooks } from '../web/auth/users.js';
import { rightsOn } from '../web/auth/roles.js';
import type { WebService } from '../web/web-service.js';
import type { Wiring } from './context.js';

/**
 * The RTSP restream's Digest secrets, kept from the web accounts' passwords.
 * Load before the web service starts; its hooks never fail a login or an
 * account change (a failure is logged, and the account simply cannot use
 * RTSP until its password is next set or verified).
 */
export function restreamCredentials(w: Wiring): { credentials: RtspCredentials; hooks: PasswordHooks } {
  const credentials = new RtspCredentials(w.board.paths.data);
  const log = w.log.child('restream');
  const guarded = (what: string, f: () => Promise<void>) =>
    f().catch((e: unknown) => log.error(`RTSP credential not ${what}`, { error: (e as Error).message }));
  return {
    credentials,
    hooks: {
      passwordSet: (name, password) => guarded('stored', () => credentials.set(name, password)),
      removed: (name) => guarded('removed', () => credentials.remove(name)),
    },
  };
}

/** rtsp://<box>:<network.rtspPort>/<channel>/main|sub for every channel, IP and analog, to accounts with the live right. */
export function wireRestream(w: Wiring, channels: LiveChannels, credentials: RtspCredentials, web: WebService): RestreamService {
  const net = w.config.get().network;
  const service = new RestreamService({
    clock: w.clock,
    log: w.log.child('restream'),
    channels,
    port: net.rtspPort,
    bindAddress: net.bindAddress,
    ...(net.rtspUdpPort !== null ? { udpPort: net.rtspUdpPort } : {}),
    realm: credentials.realm,
    users: {
      ha1: (name, realm) => credentials.ha1(name, realm),
      mayWatch: (name, channel) => {
        const a = web.users?.get(name);
        return a !== null && a !== undefined && rightsOn(a.role, a.channels, channel).includes('live');
      },
    },
  });
  w.supervisor.add(service);
  return service;
}
