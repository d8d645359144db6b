import { array, boolean, int, literal, nullable, object, oneOf, refine, string, type Infer } from '../core/schema.js';
import { isTimeZone } from '../core/timezone.js';
import { alarmsConfigSchema } from '../alarms/config.js';
import { linkageSchema } from '../linkage/rules.js';
import { ptzSettingsSchema } from '../ptz/settings.js';
import { dvrChannelSchema } from './dvr-channels.js';
import { pemOrFilePath } from './file-paths.js';
import { lanSchema, ntpSchema } from './network.js';
import { channelRecordingSchema } from './recording.js';

/**
 * The current config layout. Each later capability adds its section here,
 * bumps CONFIG_VERSION and adds a step to migrations.ts, so a box upgraded
 * from any older firmware keeps its settings.
 */
export const CONFIG_VERSION = 12;

const hostPort = int({ min: 1, max: 65535 });
const rtspUrl = string({ min: 8, max: 512, pattern: /^rtsps?:\/\/[^\s]+$/ });

/** A zone the schedules can be drawn in: the pattern alone let names Intl refuses through, and schedules then threw. */
export const timeZone = refine(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_+\-/]+$/ }), (v, path, issues) => {
  if (!isTimeZone(v)) issues.push(`${path || '(root)'}: ${JSON.stringify(v)} is not a time zone this box knows (an IANA name such as Europe/Paris or UTC)`);
});

export const configSchema = object({
  version: literal(CONFIG_VERSION),
  system: object({
    name: string({ min: 1, max: 64 }).default('DVR').describe('shown on the console, the web page and in MQTT discovery'),
    timezone: timeZone.default('UTC').describe('IANA name (Europe/Paris, America/New_York, UTC): the local time of schedules'),
  }),
  network: object({
    httpPort: hostPort.default(80).describe('plain HTTP: only /healthz is served, everything else redirects to HTTPS'),
    httpsPort: hostPort.default(443).describe('the web page and API'),
    bindAddress: string({ min: 1, max: 64, pattern: /^[0-9a-fA-F.:]+$/ }).default('0.0.0.0'),
    rtspPort: hostPort.default(554).describe('the RTSP restream: rtsp://<box>:<port>/<channel>/main and /sub'),
    rtspUdpPort: nullable(int({ min: 0, max: 65534 }))
      .default(null)
      .describe('RTP over UDP to restream clients from this port pair (0: any free pair); null: TCP interleaved only'),
    lan: lanSchema,
    ntp: ntpSchema,
  }),
  mqtt: object({
    enabled: boolean().default(false),
    url: string({ min: 1, max: 256, pattern: /^mqtts?:\/\/[^\s]+$/ }).default('mqtt://localhost:1883'),
    username: nullable(string({ max: 128 })).default(null),
    password: nullable(string({ max: 256 })).default(null),
    baseTopic: string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_\-/]+$/ }).default('dvr'),
    deviceId: nullable(string({ min: 1, max: 64, pattern: /^[a-z0-9_-]+$/ }))
      .default(null)
      .describe('this box in topics (<baseTopic>/<deviceId>/...); null: derived from system.name'),
    clientId: nullable(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.-]+$/ })).default(null).describe('null: dvr-<deviceId>'),
    discoveryPrefix: string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_\-/]+$/ }).default('homeassistant'),
    tls: object({
      ca: pemOrFilePath.default(null).describe('CA for mqtts:// URLs: PEM text, or the absolute path of a PEM file on the box; null: system CAs'),
      insecure: boolean().default(false).describe('accept any broker certificate (testing only)'),
    }),
  }),
  storage: object({
    mode: oneOf(['overwrite', 'stop'] as const).default('overwrite').describe('when the disks are full: overwrite the oldest unlocked recording, or stop recording'),
    maxDays: nullable(int({ min: 1, max: 3650 }))
      .default(null)
      .describe('recordings older than this many days are deleted (locked ones are kept), on every channel without its own limit; null: kept until overwritten'),
  }),
  channels: array(
    object({
      id: string({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9_-]*$/ }).describe('stable id used in topics, URLs and the store'),
      name: string({ min: 1, max: 64 }),
      enabled: boolean().default(true),
      kind: oneOf(['ip'] as const).default('ip'),
      main: object({
        url: rtspUrl,
        transport: oneOf(['tcp', 'udp'] as const).default('tcp'),
      }),
      sub: nullable(
        object({
          url: rtspUrl,
          transport: oneOf(['tcp', 'udp'] as const).default('tcp'),
        }),
      )
        .default(null)
        .describe('the camera\'s second stream: live view and restream only, never recorded'),
      username: nullable(string({ max: 128 })).default(null),
      password: nullable(string({ max: 256 })).default(null),
      onvif: nullable(
        object({
          host: string({ min: 1, max: 253, pattern: /^[A-Za-z0-9.:-]+$/ }),
          port: hostPort.default(80),
          path: string({ min: 1, max: 128, pattern: /^\/[A-Za-z0-9_.\/-]*$/ }).default('/onvif/device_service'),
          events: boolean().default(true).describe('motion, tamper and digital inputs from the camera onto the event bus'),
          ptz: boolean().default(false).describe('the camera is a PTZ dome: a PTZ controller for this channel'),
        }),
      )
        .default(null)
        .describe('ONVIF device service of the camera (same username and password as the stream)'),
      recording: channelRecordingSchema,
    }),
    { max: 64 },
  ).default([]),
  dvrChannels: array(dvrChannelSchema, { max: 32 }).default([]).describe('analog cameras on the board\'s capture cards'),
  alarms: alarmsConfigSchema,
  ptz: ptzSettingsSchema,
  linkage: linkageSchema,
  log: object({
    level: oneOf(['debug', 'info', 'warn', 'error'] as const).default('info'),
  }),
});

export type Config = Infer<typeof configSchema>;
