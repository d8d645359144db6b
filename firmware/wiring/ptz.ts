import { OnvifCamera } from '../onvif/camera.js';
import { OnvifEvents } from '../onvif/events.js';
import { OnvifPtz } from '../onvif/ptz.js';
import { PtzDirectory } from '../ptz/settings.js';
import type { Wiring } from './context.js';
import { rs485LineOptions } from './rs485.js';

/**
 * The IP channels' ONVIF side: an event subscription per camera with
 * `onvif.events` (motion, tamper, inputs onto the bus), and a PTZ controller
 * per camera with `onvif.ptz`. The camera is reached lazily, so a camera
 * that is down at start costs nothing until it is used.
 */
export function wireOnvif(w: Wiring): { ptz: Map<string, OnvifPtz>; cameras: Map<string, OnvifCamera> } {
  const ptz = new Map<string, OnvifPtz>();
  const cameras = new Map<string, OnvifCamera>();
  for (const ch of w.config.get().channels) {
    if (!ch.enabled || ch.onvif === null) continue;
    const log = w.log.child(`onvif-${ch.id}`);
    const camera = new OnvifCamera({ host: ch.onvif.host, port: ch.onvif.port, path: ch.onvif.path, username: ch.username ?? '', password: ch.password ?? '', log });
    cameras.set(ch.id, camera);
    if (ch.onvif.events) w.supervisor.add(new OnvifEvents({ channel: ch.id, camera, bus: w.bus, clock: w.clock, log, name: `onvif-${ch.id}` }));
    if (ch.onvif.ptz) ptz.set(ch.id, new OnvifPtz({ camera }));
  }
  return { ptz, cameras };
}

/** RS-485 domes from the config (one service per line) and the ONVIF PTZ cameras, under one directory; presets as Home Assistant buttons. */
export function wirePtz(w: Wiring, onvif: Map<string, OnvifPtz>): PtzDirectory | undefined {
  const cfg = w.config.get().ptz;
  if (cfg.domes.length === 0 && onvif.size === 0) return undefined;
  const ptz = new PtzDirectory(cfg, w.board.rs485, {
    clock: w.clock,
    log: w.log,
    lines: w.rs485Lines,
    // Preset names set at run time are kept in the settings.
    config: w.config,
    lineOptions: (bus, baudRate) => rs485LineOptions(w.board.rs485, bus, baudRate, w.log),
  });
  for (const problem of ptz.problems) w.log.error('PTZ dome not started', { problem });
  for (const s of ptz.services) w.supervisor.add(s);
  for (const [channel, controller] of onvif) {
    try {
      ptz.addController(channel, channel, controller);
    } catch (e) {
      w.log.error('ONVIF PTZ not added', { channel, error: (e as Error).message });
    }
  }
  const mqtt = w.mqtt;
  if (!mqtt) return ptz;
  for (const d of cfg.domes) {
    if (d.channel === null) continue;
    for (const p of d.presets) mqtt.registerEntity({ kind: 'ptzPreset', channel: d.channel, preset: p.number, name: `${d.name} ${p.name}` });
  }
  for (const [channel, controller] of onvif) announceOnvifPresets(w, channel, controller);
  mqtt.handleCommand('ptzPreset', async ({ channel, preset }) => {
    const dome = ptz.domeOfChannel(channel);
    if (!dome) throw new Error(`channel ${channel} has no PTZ dome`);
    await ptz.dome(dome).gotoPreset(preset);
    return { channel, preset };
  });
  return ptz;
}

/**
 * An ONVIF camera's presets live on the camera: they are read once it
 * answers (again every minute until it does) and become MQTT preset buttons.
 */
function announceOnvifPresets(w: Wiring, channel: string, controller: OnvifPtz): void {
  const mqtt = w.mqtt!;
  const attempt = () => {
    controller.refreshPresets().then(
      (presets) => {
        for (const p of presets) mqtt.registerEntity({ kind: 'ptzPreset', channel, preset: p.number, name: `${channel} ${p.name || `preset ${p.number}`}` });
      },
      (e: unknown) => {
        w.log.warn('ONVIF presets not read yet: trying again in a minute', { channel, error: (e as Error).message });
        w.clock.setTimeout(attempt, 60_000).unref?.();
      },
    );
  };
  attempt();
}
