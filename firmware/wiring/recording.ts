import { join } from 'node:path';
import { DvrService } from '../channels/dvr-service.js';
import { LiveFanout } from '../channels/live-fanout.js';
import { NvrService } from '../channels/nvr-service.js';
import { RecordGate, type RecordMode } from '../channels/record-gate.js';
import type { RecordSchedule } from '../config/recording.js';
import type { Config } from '../config/schema.js';
import { dvrChannelConfig } from '../config/dvr-channels.js';
import { recordingCommands } from '../recordings/commands.js';
import { Bays } from '../storage/bays.js';
import { diskCommands, diskTools, type DiskTools } from '../storage/commands.js';
import { DiskMonitor } from '../storage/disk-monitor.js';
import { RingStore } from '../storage/ring-store.js';
import type { ChannelRetention, RetentionOptions } from '../storage/retention.js';
import type { Wiring } from './context.js';

export interface Recording {
  store: RingStore;
  /** What the channels write through: continuous, event-only or no recording per channel. */
  gate: RecordGate;
  bays: Bays;
  /** List, format and check the bays: `dvr disk` and the web page share them. */
  disks: DiskTools;
  nvr: NvrService;
  /** Present when analog channels are configured. */
  dvr?: DvrService;
  /** The analog channels' live frames (for the restream). */
  dvrLive?: LiveFanout;
}

/**
 * The recording store over the board's bays, the disk tools, and the
 * channels that write into it. Block-device bays are mounted here when they
 * hold ext4, and never formatted without `dvr disk format`; directory bays
 * (the sim board) get a small ring on first start.
 */
export function wireRecording(w: Wiring): Recording | undefined {
  if (w.board.sata.length === 0) {
    w.log.warn('this board has no SATA bay: nothing is recorded');
    return undefined;
  }
  const log = w.log.child('storage');
  const config = () => w.config.get();
  const bays = new Bays({ bays: w.board.sata.map(({ bay, path, kind }) => ({ bay, path, kind })), mountRoot: join(w.board.paths.data, 'disks'), log });
  w.supervisor.add(bays);
  const store = new RingStore({
    bus: w.bus,
    log,
    clock: w.clock,
    disks: bays.diskConfigs(),
    // Only directory bays are ever formatted at start (a block bay's disk needs `dvr disk format`).
    format: { blockSize: 8 * 1024 * 1024, blockCount: 8, reserveBytes: 0 },
    retention: retentionFor(config()),
  });
  w.supervisor.add(store);
  // Retention days, quotas and the full-disk mode apply at once: the page's "Save" is the moment they start.
  w.bus.on('configChanged', (e) => {
    if (e.paths.some((p) => p === '' || /^(storage|channels|dvrChannels)(\.|$)/.test(p))) store.setRetention(retentionFor(config()));
  });
  const monitor = new DiskMonitor({
    store,
    log,
    clock: w.clock,
    onDeviceBack: async (c) => void (await bays.prepare(c.name)),
    onDetached: async (c) => void (await bays.unmount(c.name)),
  });
  w.supervisor.add(monitor);
  const disks = diskTools({ store, bays, monitor });
  w.addCommands(diskCommands(disks));
  const channelIds = () => [...config().channels.map((c) => c.id), ...config().dvrChannels.map((c) => c.id)];
  w.addCommands(recordingCommands({ store, channels: channelIds }));

  const rulesPreRecordMs = preRecordMs(() => config().linkage.rules);
  const gate = new RecordGate({
    store,
    clock: w.clock,
    log,
    mode: (ch) => recordMode(config(), ch),
    schedule: (ch) => recordSchedule(config(), ch),
    timezone: () => config().system.timezone,
    // A scheduled channel's own motion reaches back its preSec as well.
    preRecordMs: (ch) => Math.max(rulesPreRecordMs(ch), (recordSchedule(config(), ch)?.preSec ?? 0) * 1000),
  });
  w.bus.on('motion', (e) => gate.motion(e.channel, e.active, e.at));
  const nvr = new NvrService({ bus: w.bus, clock: w.clock, log: w.log.child('channels'), channels: () => config().channels, store: gate });
  w.supervisor.add(nvr);
  wireManualRecording(w, gate, channelIds);
  if (config().dvrChannels.length === 0) return { store, gate, bays, disks, nvr };
  const encoder = w.board.encoder;
  const analog = () => config().dvrChannels.map((c) => dvrChannelConfig(c, { backend: encoder.backend, device: encoder.device }));
  const dvrLive = new LiveFanout(() => analog().filter((c) => c.enabled).map((c) => ({ id: c.id, sub: c.sub !== null })), w.log.child('dvr'));
  const dvr = new DvrService({ bus: w.bus, clock: w.clock, log: w.log.child('dvr'), channels: analog, store: gate, live: dvrLive });
  w.supervisor.add(dvr);
  return { store, gate, bays, disks, nvr, dvr, dvrLive };
}

const DAY_MS = 86_400_000;

/** The store's retention from the settings: each channel's days (its own, else the box's) and its share of the disks. */
export function retentionFor(c: Config): RetentionOptions {
  const channels: Record<string, ChannelRetention> = {};
  for (const ch of [...c.channels, ...c.dvrChannels]) {
    const days = ch.recording.maxDays ?? c.storage.maxDays;
    const r: ChannelRetention = {};
    if (days !== null) r.maxAgeMs = days * DAY_MS;
    if (ch.recording.quotaPercent !== null) r.quota = ch.recording.quotaPercent / 100;
    channels[ch.id] = r;
  }
  return { mode: c.storage.mode, channels };
}

/** A channel's recording mode; a channel the config does not have records nothing. */
export function recordMode(c: Config, channel: string): RecordMode {
  return (c.channels.find((x) => x.id === channel) ?? c.dvrChannels.find((x) => x.id === channel))?.recording.mode ?? 'off';
}

/** A channel's weekly recording schedule, null when its `mode` decides. */
export function recordSchedule(c: Config, channel: string): RecordSchedule | null {
  return (c.channels.find((x) => x.id === channel) ?? c.dvrChannels.find((x) => x.id === channel))?.recording.schedule ?? null;
}

/** The longest pre-record any enabled rule asks of a channel (rules naming "*" count for every channel), worked out once per rule list. */
export function preRecordMs(rules: () => Config['linkage']['rules']): (channel: string) => number {
  let seen: Config['linkage']['rules'] | undefined;
  let byChannel = new Map<string, number>();
  return (channel) => {
    const list = rules();
    if (list !== seen) {
      seen = list;
      byChannel = new Map();
      for (const r of list) {
        if (!r.enabled) continue;
        for (const a of r.actions) if (a.type === 'record') for (const c of a.channels) byChannel.set(c, Math.max(byChannel.get(c) ?? 0, a.preSec * 1000));
      }
    }
    return Math.max(byChannel.get(channel) ?? 0, byChannel.get('*') ?? 0);
  };
}

/**
 * The "manual recording" switch of each channel in Home Assistant: on records
 * an events-mode channel until switched off (a continuous channel already
 * records, and says so).
 */
function wireManualRecording(w: Wiring, gate: RecordGate, channels: () => string[]): void {
  const mqtt = w.mqtt;
  if (!mqtt) return;
  for (const channel of channels()) mqtt.registerEntity({ kind: 'recording', channel });
  mqtt.handleCommand('recording', ({ channel, on }) => {
    if (!channels().includes(channel)) throw new Error(`unknown channel "${channel}"`);
    const now = w.clock.now();
    const detail = gate.record(channel, 'manual', now, on ? null : now);
    return { channel, on, detail };
  });
}
