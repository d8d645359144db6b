import { array, boolean, object, oneOf, string, type Schema } from '../../core/schema.js';
import type { ConfigStore } from '../../config/store.js';
import { RIGHTS, rightsOn, type Right } from '../auth/roles.js';
import type { Router } from '../http/router.js';

export interface ChannelSummary {
  id: string;
  name: string;
  kind: 'ip' | 'analog';
  /** Whether a sub stream exists (grids use it; single view uses main). */
  sub: boolean;
  /** Whether the channel has a PTZ dome (Pelco or ONVIF). */
  ptz: boolean;
  /** What the caller may do on this channel. */
  rights: Right[];
}

const channelSummarySchema: Schema<ChannelSummary> = object({
  id: string({ min: 1, max: 32 }),
  name: string({ min: 1, max: 64 }),
  kind: oneOf(['ip', 'analog'] as const),
  sub: boolean().describe('a sub stream exists (grids use it)'),
  ptz: boolean().describe('a PTZ dome is on the channel'),
  rights: array(oneOf(RIGHTS)).describe('what the caller may do on it'),
});

/** The channels the caller may see at all, with their rights: what the live grid is built from. */
export function addChannelRoutes(router: Router, d: { config: ConfigStore; hasPtz?: (channel: string) => boolean }): void {
  router.add({
    method: 'GET', path: '/api/v1/channels', access: 'viewer', summary: 'the channels I may see, with my rights on each',
    response: { json: object({ channels: array(channelSummarySchema) }), description: 'the enabled channels the caller has a right on: analog ones first' },
    handler: async ({ account }) => {
      const c = d.config.get();
      const all: Omit<ChannelSummary, 'rights' | 'ptz'>[] = [
        ...c.dvrChannels.filter((x) => x.enabled).map((x) => ({ id: x.id, name: x.name, kind: 'analog' as const, sub: x.sub !== null })),
        ...c.channels.filter((x) => x.enabled).map((x) => ({ id: x.id, name: x.name, kind: 'ip' as const, sub: x.sub !== null })),
      ];
      const channels = all.map((x) => ({ ...x, ptz: d.hasPtz?.(x.id) ?? false, rights: rightsOn(account!.role, account!.channels, x.id) })).filter((x) => x.rights.length > 0);
      return { body: { channels } };
    },
  });
}
