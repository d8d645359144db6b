import { join } from 'node:path';
import type { DvrService } from '../channels/dvr-service.js';
import type { ConfigStore } from '../config/store.js';
import type { OnvifCamera } from '../onvif/camera.js';
import { fetchJpeg, SnapshotError } from '../snapshots/http-jpeg.js';
import { LiveSnapshots } from '../snapshots/live.js';
import { SnapshotStore, type SnapshotSource } from '../snapshots/store.js';
import type { Wiring } from './context.js';

export interface SnapshotParts {
  config: ConfigStore;
  dvr?: DvrService;
  /** The IP channels' ONVIF cameras by channel. */
  onvif: Map<string, OnvifCamera>;
}

/**
 * Where a channel's picture comes from: analog channels from their capture,
 * IP channels from the camera's ONVIF snapshot URI (looked up once, again
 * after a failure) with the channel's login. An IP channel without ONVIF has
 * no picture to give without decoding its stream, and says so.
 */
export function channelSnapshotSource(parts: SnapshotParts): SnapshotSource {
  const uris = new Map<string, string>();
  const snapshotUri = async (channel: string, camera: OnvifCamera): Promise<string> => {
    const known = uris.get(channel);
    if (known) return known;
    const profiles = await camera.profiles();
    const pixels = (p: { width?: number; height?: number }) => (p.width ?? 0) * (p.height ?? 0);
    const main = [...profiles].sort((a, b) => pixels(b) - pixels(a))[0];
    if (!main) throw new SnapshotError(`channel ${channel}: the camera has no media profile`);
    const uri = await camera.snapshotUri(main.token);
    uris.set(channel, uri);
    return uri;
  };
  return async (channel) => {
    const c = parts.config.get();
    if (c.dvrChannels.some((x) => x.id === channel)) {
      if (!parts.dvr) throw new SnapshotError(`analog channel ${channel} is not running`, true);
      return parts.dvr.snapshot(channel);
    }
    const ip = c.channels.find((x) => x.id === channel);
    if (!ip) throw new SnapshotError(`unknown channel "${channel}"`, true);
    const camera = parts.onvif.get(channel);
    if (!camera) throw new SnapshotError(`channel ${channel} has no snapshot source: give the camera's ONVIF address in the channel's settings`, true);
    try {
      const uri = await snapshotUri(channel, camera);
      return await fetchJpeg(uri, ip.username !== null ? { username: ip.username, password: ip.password ?? '' } : undefined);
    } catch (err) {
      uris.delete(channel);
      throw err;
    }
  };
}

/**
 * Snapshots of every channel: kept as evidence in the data partition (the
 * linkage rules' `snapshot` action), and for viewing only, in memory (the
 * page's fallback for streams the browser cannot play). One source serves
 * both.
 */
export function wireSnapshots(w: Wiring, parts: Omit<SnapshotParts, 'config'>): { store: SnapshotStore; live: LiveSnapshots } {
  const source = channelSnapshotSource({ ...parts, config: w.config });
  return {
    store: new SnapshotStore({ dir: join(w.board.paths.data, 'snapshots'), clock: w.clock, log: w.log.child('snapshots'), source }),
    live: new LiveSnapshots({ source, clock: w.clock, log: w.log.child('live-snapshots') }),
  };
}
