import { networkInterfaces } from 'node:os';
import { array, boolean, int, nullable, number, object, string } from '../../core/schema.js';
import type { Clock } from '../../core/clock.js';
import type { ConfigStore } from '../../config/store.js';
import { hostName } from '../../config/network.js';
import { queryFirst } from '../../net/ntp/client.js';
import { NtpError } from '../../net/ntp/packet.js';
import type { NetworkService } from '../../system/network/network-service.js';
import { HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';

export interface NetworkRouteDeps {
  config: ConfigStore;
  clock: Clock;
  network: () => NetworkService | undefined;
  /** UDP port of the NTP servers asked (tests point it at a server of their own). */
  ntpPort?: number;
}

const address = object({ family: string(), address: string(), cidr: nullable(string()) });

/**
 * The box's network as it is (addresses the OS gave it, whether the firmware
 * manages them and how the last apply went) and an NTP check: "is this
 * server reachable, and how far off is the box's clock?". The settings
 * themselves are config (`network.lan`, `network.ntp`), saved like any other.
 */
export function addNetworkRoutes(router: Router, d: NetworkRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/network', access: 'admin', summary: 'the box\'s addresses now, whether the firmware manages them, and how its settings were last applied',
    response: {
      json: object({
        managed: boolean().describe('the OS network follows network.lan and network.ntp (false on the simulator, or a board whose profile says so)'),
        interface: nullable(string()).describe('the LAN interface of the board'),
        addresses: array(object({ name: string(), addresses: array(address) })).describe('every interface but loopback, with the addresses it has now'),
        lastApply: nullable(object({ at: number(), ok: boolean(), error: string().optional() })),
        time: string().describe('the box\'s clock, ISO 8601 UTC'),
      }),
    },
    handler: async () => {
      const s = d.network()?.status();
      const addresses = Object.entries(networkInterfaces())
        .map(([name, list]) => ({ name, addresses: (list ?? []).filter((a) => !a.internal).map((a) => ({ family: a.family, address: a.address, cidr: a.cidr })) }))
        .filter((i) => i.addresses.length > 0);
      return { body: { managed: s?.managed ?? false, interface: s?.interface ?? null, addresses, lastApply: s?.lastApply ?? null, time: new Date(d.clock.now()).toISOString() } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/network/ntp-test', access: 'admin',
    summary: 'ask an NTP server (the body\'s, else the configured ones in order) for the time: reachable, its stratum, and how far off the box\'s clock is',
    body: object({ server: hostName.optional().describe('a server to try before saving it; absent: network.ntp.servers') }),
    response: {
      json: object({
        ok: boolean(),
        server: nullable(string()).describe('the server that answered (or the last one tried)'),
        address: string().optional(),
        stratum: int({ min: 1, max: 15 }).optional(),
        offsetMs: number().optional().describe('how far the server\'s clock is ahead of the box\'s (negative: behind)'),
        delayMs: number({ min: 0 }).optional(),
        error: string().optional().describe('when not ok: what went wrong, server by server'),
      }),
    },
    handler: async ({ body }) => {
      const servers = body.server !== undefined ? [body.server] : d.config.get().network.ntp.servers;
      if (servers.length === 0) throw new HttpError(422, 'invalid', 'no NTP server is set (the OS uses those DHCP gives): type one to test it');
      try {
        const { result } = await queryFirst(servers, { port: d.ntpPort ?? 123, timeoutMs: 3000, clock: () => d.clock.now() });
        const round = (n: number) => Math.round(n * 10) / 10;
        return { body: { ok: true, server: result.server, address: result.address, stratum: result.stratum, offsetMs: round(result.offsetMs), delayMs: round(result.delayMs) } };
      } catch (e) {
        if (!(e instanceof NtpError)) throw e;
        return { body: { ok: false, server: servers[servers.length - 1] ?? null, error: e.message } };
      }
    },
  });
}
