// What Home Assistant is told about the channels and disks: a sensor for
// each thing that has a source on this box. An IP camera says whether it
// streams, and moves or is tampered with only when its ONVIF events are on;
// an analog channel loses video, and moves or is tampered with when its
// detectors run. Disks get their state and how full they are, the latter
// reported once a minute (the store's own figures: media bytes in blocks).
import type { Timer } from '../core/clock.js';
import type { RingStore } from '../storage/ring-store.js';
import type { Wiring } from './context.js';

const USAGE_EVERY_MS = 60_000;

export function wireMqttEntities(w: Wiring, store: RingStore | undefined): void {
  const mqtt = w.mqtt;
  if (!mqtt) return;
  const c = w.config.get();
  for (const ch of c.channels) {
    if (!ch.enabled) continue;
    mqtt.registerEntity({ kind: 'camera', channel: ch.id, name: `${ch.name} camera` });
    if (ch.onvif?.events) {
      mqtt.registerEntity({ kind: 'motion', channel: ch.id, name: `${ch.name} motion` });
      mqtt.registerEntity({ kind: 'tamper', channel: ch.id, name: `${ch.name} tamper` });
    }
  }
  for (const ch of c.dvrChannels) {
    if (!ch.enabled) continue;
    mqtt.registerEntity({ kind: 'videoLoss', channel: ch.id, name: `${ch.name} video loss` });
    if (ch.motion.enabled) mqtt.registerEntity({ kind: 'motion', channel: ch.id, name: `${ch.name} motion` });
    if (ch.tamper.enabled) mqtt.registerEntity({ kind: 'tamper', channel: ch.id, name: `${ch.name} tamper` });
  }
  if (!store) return;
  for (const b of w.board.sata) mqtt.registerEntity({ kind: 'disk', disk: b.bay, name: `Disk ${b.bay}` });
  const report = () => {
    for (const d of store.disks()) {
      if (d.blocks === 0) continue;
      mqtt.reportDiskUsage(d.name, { usedPercent: (100 * d.usedBlocks) / d.blocks, usedBytes: d.usedBytes, totalBytes: d.blocks * d.blockSize });
    }
  };
  let timer: Timer | undefined;
  const tick = () => {
    report();
    timer = w.clock.setTimeout(tick, USAGE_EVERY_MS);
    timer.unref?.();
  };
  // The first figures once the store has opened its disks, then each minute.
  w.bus.on('serviceState', (e) => {
    if (e.service === 'storage' && e.state === 'running' && timer === undefined) tick();
  });
}
