import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { LiveListener } from '../channels/nvr-service.js';
import { RtspServer, type ServedStream } from '../media/rtsp/server.js';
import type { StreamInfo } from '../media/types.js';

/** What the restream needs from the channels service (NvrService offers it). */
export interface LiveChannels {
  has(channel: string, video: 'main' | 'sub'): boolean;
  liveTracks(channel: string, video: 'main' | 'sub'): StreamInfo[];
  subscribe(channel: string, video: 'main' | 'sub', listener: LiveListener): () => void;
}

/** Who may watch: Digest HA1 per user and the live right per channel, from the firmware's accounts. */
export interface RestreamUsers {
  /** hex MD5("user:realm:password"), or null when the user does not exist or has no RTSP credential yet. */
  ha1(username: string, realm: string): string | null | Promise<string | null>;
  /** True when the user has the `live` right on this channel (viewers included). */
  mayWatch(username: string, channel: string): boolean;
}

export interface RestreamDeps {
  clock: Clock;
  log: Logger;
  channels: LiveChannels;
  users: RestreamUsers;
  port: number;
  bindAddress: string;
  /** Digest realm; part of every stored HA1, so changing it invalidates them. */
  realm?: string;
  maxClients?: number;
  /** RTP over UDP from this port pair (port, port + 1), 0 for any free pair; absent: TCP interleaved only. */
  udpPort?: number;
}

export const RESTREAM_REALM = 'dvr';

/**
 * Several channel services (IP cameras, analog inputs) as one: a channel id
 * is served by the first source that has it.
 */
export function combineLiveChannels(...sources: LiveChannels[]): LiveChannels {
  const find = (channel: string, video: 'main' | 'sub'): LiveChannels | undefined => sources.find((s) => s.has(channel, video));
  return {
    has: (channel, video) => find(channel, video) !== undefined,
    liveTracks: (channel, video) => find(channel, video)?.liveTracks(channel, video) ?? [],
    subscribe: (channel, video, listener) => find(channel, video)?.subscribe(channel, video, listener) ?? (() => {}),
  };
}

/** "ch1/main" → ["ch1", "main"], anything else → null. */
export function parseRestreamPath(path: string): { channel: string; video: 'main' | 'sub' } | null {
  const m = /^([a-z0-9][a-z0-9_-]{0,31})\/(main|sub)$/.exec(path);
  return m ? { channel: m[1]!, video: m[2] as 'main' | 'sub' } : null;
}

/**
 * Serves every channel live over RTSP at rtsp://<box>:<port>/<channel>/main
 * and /<channel>/sub, with Digest authentication against the firmware's
 * users (any role with the live right on the channel, viewers included).
 * Viewers share the channel's one camera connection.
 */
export class RestreamService implements Service {
  readonly name = 'restream';
  readonly dependsOn = ['channels'] as const;
  private server?: RtspServer;

  constructor(private readonly d: RestreamDeps) {}

  async start(): Promise<void> {
    const realm = this.d.realm ?? RESTREAM_REALM;
    const server = new RtspServer({
      port: this.d.port,
      host: this.d.bindAddress,
      clock: this.d.clock,
      maxConnections: this.d.maxClients ?? 32,
      ...(this.d.udpPort !== undefined ? { udpPort: this.d.udpPort } : {}),
      resolve: (path) => this.resolve(path),
      auth: {
        realm,
        ha1: (u, r) => this.d.users.ha1(u, r),
        authorize: (u, path) => {
          const p = parseRestreamPath(path);
          // Unknown paths are not refused here: the resolver answers 404 for them.
          return p === null || this.d.users.mayWatch(u, p.channel);
        },
      },
      onWarning: (message, detail) => this.d.log.warn(message, detail),
    });
    await server.start();
    this.server = server;
    this.d.log.info('RTSP restream listening', { port: server.port });
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  stats(): ReturnType<RtspServer['stats']> | null {
    return this.server?.stats() ?? null;
  }

  private resolve(path: string): ServedStream | undefined {
    const p = parseRestreamPath(path);
    if (!p || !this.d.channels.has(p.channel, p.video)) return undefined;
    return {
      tracks: () => this.d.channels.liveTracks(p.channel, p.video),
      subscribe: (l) => this.d.channels.subscribe(p.channel, p.video, l),
    };
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.stop();
  }
}
