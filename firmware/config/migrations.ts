import { CONFIG_VERSION } from './schema.js';

/**
 * Steps that turn a config of version N into version N+1. Each step is pure
 * (old object in, new object out) and never drops a setting it understands.
 *
 * Version 1 was the flat layout of the first prototype:
 *   { version: 1, deviceName, httpPort, timezone, mqttUrl? }
 */
type Step = (old: Record<string, unknown>) => Record<string, unknown>;

const steps: Record<number, Step> = {
  1: (v1) => {
    const out: Record<string, unknown> = { version: 2 };
    const system: Record<string, unknown> = {};
    if (v1.deviceName !== undefined) system.name = v1.deviceName;
    if (v1.timezone !== undefined) system.timezone = v1.timezone;
    out.system = system;
    out.network = v1.httpPort !== undefined ? { httpPort: v1.httpPort } : {};
    out.mqtt = v1.mqttUrl !== undefined ? { enabled: true, url: v1.mqttUrl } : {};
    return out;
  },
  // 3 added MQTT TLS, discovery prefix, client and device ids; the defaults keep v2 behaviour.
  2: (v2) => {
    const mqtt = typeof v2.mqtt === 'object' && v2.mqtt !== null ? (v2.mqtt as Record<string, unknown>) : {};
    return {
      ...v2,
      version: 3,
      mqtt: { deviceId: null, clientId: null, discoveryPrefix: 'homeassistant', tls: { ca: null, insecure: false }, ...mqtt },
    };
  },
  // 4 added network.httpsPort (the page moved to HTTPS); its default fills in.
  3: (v3) => ({ ...v3, version: 4 }),
  // 5 added storage.mode and channels (IP cameras); the defaults fill in.
  4: (v4) => ({ ...v4, version: 5 }),
  // 6 added ptz (RS-485 domes, tours), linkage rules, alarms, analog channels (dvrChannels),
  // the RTSP restream's ports and the IP channels' sub stream and ONVIF; the defaults fill in.
  5: (v5) => ({ ...v5, version: 6 }),
  // 7 added channels[].recording and dvrChannels[].recording (continuous, events or off); continuous fills in.
  6: (v6) => ({ ...v6, version: 7 }),
  // 8 added ptz.onvif (park of ONVIF PTZ cameras; tours may name their channel); an empty list fills in.
  7: (v7) => ({ ...v7, version: 8 }),
  // 9 added channels[].recording.schedule and dvrChannels[].recording.schedule (weekly grids); null fills in: mode decides as before.
  8: (v8) => ({ ...v8, version: 9 }),
  // 10 added dvrChannels[].main/sub .resolution and .fps; D1 main, CIF sub and null (every captured frame) fill in: streams as before.
  9: (v9) => ({ ...v9, version: 10 }),
  // 11 added dvrChannels[].image (brightness, contrast, saturation, hue, sharpness in percent of the card's range);
  // null for each: the driver's default, the picture as before. Written out so the migrated file shows the new settings.
  10: (v10) => {
    if (!Array.isArray(v10.dvrChannels)) return { ...v10, version: 11 };
    const none = { brightness: null, contrast: null, saturation: null, hue: null, sharpness: null };
    const dvrChannels = v10.dvrChannels.map((c: unknown) => {
      if (typeof c !== 'object' || c === null || Array.isArray(c)) return c;
      const ch = c as Record<string, unknown>;
      const image = typeof ch.image === 'object' && ch.image !== null && !Array.isArray(ch.image) ? ch.image : {};
      return { ...ch, image: { ...none, ...image } };
    });
    return { ...v10, version: 11, dvrChannels };
  },
  // 12 added storage.maxDays, channels'/dvrChannels' recording.maxDays and .quotaPercent, network.lan and
  // network.ntp; the defaults fill in, except that the firmware leaves alone the LAN address an upgraded box
  // already has (set in the OS, perhaps static): lan.managed false until someone sets it on purpose.
  11: (v11) => {
    const network = typeof v11.network === 'object' && v11.network !== null && !Array.isArray(v11.network) ? (v11.network as Record<string, unknown>) : {};
    const lan = typeof network.lan === 'object' && network.lan !== null && !Array.isArray(network.lan) ? network.lan : {};
    return { ...v11, version: 12, network: { ...network, lan: { managed: false, ...lan } } };
  },
};

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Returns the config at CONFIG_VERSION and the version it started from. */
export function migrate(raw: unknown): { config: Record<string, unknown>; from: number } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MigrationError('config is not a JSON object');
  }
  let cfg = raw as Record<string, unknown>;
  const from = cfg.version;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1) {
    throw new MigrationError(`config has no valid "version" (got ${JSON.stringify(from)})`);
  }
  if (from > CONFIG_VERSION) {
    throw new MigrationError(`config version ${from} is newer than this firmware understands (${CONFIG_VERSION}); was the firmware downgraded?`);
  }
  for (let v = from; v < CONFIG_VERSION; v++) {
    const step = steps[v];
    if (!step) throw new MigrationError(`no migration from config version ${v}`);
    cfg = step(cfg);
  }
  return { config: cfg, from };
}
