import { array, boolean, int, nullable, number, object, string } from '../../core/schema.js';
import type { Logger } from '../../core/log.js';
import type { ConfigStore } from '../../config/store.js';
import { OnvifCamera, redactUri } from '../../onvif/camera.js';
import { discover, type DiscoveredDevice, type DiscoverOptions } from '../../onvif/discovery.js';
import { OnvifError } from '../../onvif/errors.js';
import { HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';

export interface OnvifRouteOptions {
  /** WS-Discovery; default the real probe. */
  discover?: (o: DiscoverOptions) => Promise<DiscoveredDevice[]>;
  /** How long discovery listens for answers. Default 3 s. */
  discoveryMs?: number;
  /** Where the probe goes; default the LAN's multicast group on 3702 (tests: the simulator's unicast port). */
  target?: { address?: string; port?: number };
  /** Per request to a camera being checked. Default 5 s. */
  cameraTimeoutMs?: number;
}

export interface OnvifRouteDeps extends OnvifRouteOptions {
  config: ConfigStore;
  log: Logger;
}

/**
 * A host name or an IP address and nothing else: no scheme, path, user
 * info, spaces or shell characters reach the camera client. IPv6 without
 * brackets, as the config's `onvif.host` takes it.
 */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|(?=[0-9A-Fa-f.]*:)[0-9A-Fa-f:.]{2,45})$/;

const probeBody = object({
  host: string({ min: 1, max: 253, pattern: HOST }).describe('the camera: host name or IP address, nothing else'),
  port: int({ min: 1, max: 65535 }).default(80),
  path: string({ min: 1, max: 128, pattern: /^\/[A-Za-z0-9_.\/-]*$/ }).default('/onvif/device_service').describe('the device service path, as discovery gave it'),
  username: string({ min: 1, max: 128 }),
  password: string({ max: 256 }),
});

const usedByChannel = nullable(string()).describe('the channel already using this camera, or null');
const deviceSchema = object({
  urn: string().describe('the endpoint reference: the camera across address changes'),
  address: string(),
  port: int({ min: 1, max: 65535 }),
  path: string().describe('the device service path'),
  serviceUrl: string(),
  name: nullable(string()),
  hardware: nullable(string()),
  usedBy: usedByChannel,
});
const size = nullable(number({ min: 0 }));
const streamSchema = object({
  profile: string().describe('the media profile token'),
  name: string(),
  uri: string().describe('RTSP, without any user:password@'),
  width: size,
  height: size,
  encoding: nullable(string()),
  fps: size,
});
const probeReply = object({
  host: string(),
  port: int({ min: 1, max: 65535 }),
  path: string(),
  device: object({ manufacturer: string(), model: string(), firmware: string(), serial: string() }),
  profiles: array(object({ token: string(), name: string(), encoding: nullable(string()), width: size, height: size, fps: size, ptz: boolean() })),
  main: streamSchema,
  sub: nullable(streamSchema),
  snapshotUri: nullable(string()),
  ptz: boolean().describe('the camera offers PTZ on one of its profiles'),
  events: boolean().describe('the camera offers ONVIF events'),
  usedBy: usedByChannel,
});

/** The camera's error as the page should see it; the password is cut out of any text, whatever produced it. */
export function cameraError(e: unknown, password: string): HttpError {
  if (!(e instanceof OnvifError)) return new HttpError(502, 'camera-bad-reply', 'the camera answered something unexpected');
  const message = password ? e.message.split(password).join('***') : e.message;
  switch (e.code) {
    case 'unauthorized':
      return new HttpError(422, 'camera-unauthorized', message);
    case 'unreachable':
      return new HttpError(504, 'camera-unreachable', message);
    case 'not-onvif':
      return new HttpError(502, 'camera-not-onvif', message);
    case 'unsupported':
      return new HttpError(502, 'camera-unsupported', message);
    default:
      return new HttpError(502, 'camera-bad-reply', message);
  }
}

/** The device's address to talk to: the XAddr on the address that answered, else the first IPv4 one. */
function serviceUrl(d: DiscoveredDevice): URL {
  const urls = d.xaddrs.map((x) => new URL(x));
  const answered = d.from.slice(0, d.from.lastIndexOf(':'));
  return urls.find((u) => u.hostname === answered) ?? urls.find((u) => /^\d+\.\d+\.\d+\.\d+$/.test(u.hostname)) ?? urls[0]!;
}

/**
 * Finding and checking ONVIF cameras for the add-camera page. Nothing here
 * changes the config: the page adds the channel with PATCH /api/v1/config.
 * Administrators only, since a probe makes the box connect where it is told.
 */
export function addOnvifRoutes(router: Router, d: OnvifRouteDeps): void {
  const usedBy = (host: string): string | null => {
    const hostOf = (url: string | undefined) => {
      try {
        return url ? new URL(url).hostname : '';
      } catch {
        return '';
      }
    };
    const c = d.config.get().channels.find((ch) => ch.onvif?.host === host || hostOf(ch.main.url) === host || hostOf(ch.sub?.url) === host);
    return c?.id ?? null;
  };
  // One probe at a time: a second click while one runs gets the same answer.
  let running: Promise<DiscoveredDevice[]> | undefined;

  router.add({
    method: 'POST', path: '/api/v1/onvif/discover', access: 'admin', summary: 'find ONVIF cameras on the LAN (WS-Discovery, a few seconds): address, service URL, name, and the channel already using each',
    response: { json: object({ devices: array(deviceSchema) }) },
    handler: async () => {
      running ??= (d.discover ?? discover)({ ...d.target, timeoutMs: d.discoveryMs ?? 3000 }).finally(() => (running = undefined));
      let found: DiscoveredDevice[];
      try {
        found = await running;
      } catch (e) {
        throw new HttpError(503, 'discovery-failed', `the discovery probe could not be sent: ${(e as Error).message}`);
      }
      const devices = found.map((dev) => {
        const url = serviceUrl(dev);
        const address = url.hostname.replace(/^\[|\]$/g, '');
        return {
          urn: dev.urn,
          address,
          port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
          path: url.pathname,
          serviceUrl: url.href,
          name: dev.name ?? null,
          hardware: dev.hardware ?? null,
          usedBy: usedBy(address),
        };
      });
      return { body: { devices } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/onvif/probe', access: 'admin', maxBodyBytes: 4096,
    summary: 'connect to an ONVIF camera: device information, profiles, main and sub stream URIs, snapshot URI, PTZ and events (the password is never echoed)',
    body: probeBody,
    response: { json: probeReply, description: 'what the camera offers; the password is never in it' },
    handler: async ({ body, account }) => {
      const { host, port, path, username, password } = body;
      const camera = new OnvifCamera({ host, port, path, username, password, timeoutMs: d.cameraTimeoutMs ?? 5000, log: d.log });
      try {
        const info = await camera.deviceInfo();
        const profiles = await camera.profiles();
        const streams = await camera.streams();
        const offers = await camera.offers();
        // URIs lose any user:password@ a camera put in them: the channel carries the credentials itself.
        const stream = (s: typeof streams.main) => ({ profile: s.token, name: s.name, uri: redactUri(s.uri), width: s.width ?? null, height: s.height ?? null, encoding: s.encoding ?? null, fps: s.fps ?? null });
        d.log.info('onvif camera checked', { by: account!.name, camera: `${host}:${port}`, model: info.model });
        return {
          body: {
            host, port, path,
            device: { manufacturer: info.manufacturer, model: info.model, firmware: info.firmwareVersion, serial: info.serialNumber },
            profiles: profiles.map((p) => ({ token: p.token, name: p.name, encoding: p.encoding ?? null, width: p.width ?? null, height: p.height ?? null, fps: p.fps ?? null, ptz: p.ptz })),
            main: stream(streams.main),
            sub: streams.sub ? stream(streams.sub) : null,
            snapshotUri: streams.snapshotUri ? redactUri(streams.snapshotUri) : null,
            ptz: offers.ptz && profiles.some((p) => p.ptz),
            events: offers.events,
            usedBy: usedBy(host),
          },
        };
      } catch (e) {
        const err = cameraError(e, password);
        d.log.info('onvif camera check failed', { by: account!.name, camera: `${host}:${port}`, code: err.code });
        throw err;
      }
    },
  });
}
