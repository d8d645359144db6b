// Purpose-built editors shown above a settings tab's generic fields: what a
// generic field per setting does badly (a weekly grid, a mask drawn on the
// picture, disks, camera discovery). Each writes the same validated config
// (PATCH /api/v1/config) or calls its own routes, and tells its outcome.
// One entry per editor module, keyed by the tab (the config section).
import { storageEditor } from './settings-storage.js';
import { camerasEditor } from './settings-cameras.js';
import { mqttTestEditor } from './settings-mqtt.js';
import { networkEditor } from './settings-network.js';
import { motionMaskEditor } from './settings-motion.js';
import { channelSchedule, dvrChannelSchedule } from './settings-schedule.js';
import { linkageEditor } from './settings-linkage.js';

/** Builds an editor for the tab; `config` is the whole config as GET /api/v1/config gave it. */
export type SettingsEditor = (config: Record<string, unknown>, reload: () => void) => Promise<HTMLElement>;

export const SETTINGS_EDITORS: Record<string, SettingsEditor[]> = {
  channels: [camerasEditor, channelSchedule],
  dvrChannels: [dvrChannelSchedule, motionMaskEditor],
  storage: [storageEditor],
  mqtt: [mqttTestEditor],
  linkage: [linkageEditor],
  network: [networkEditor],
};
