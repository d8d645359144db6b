// Config version 8 added ptz.onvif (park of ONVIF PTZ cameras). A box
// upgraded from version 7 keeps its domes, their preset names and tours,
// gains an empty ptz.onvif, and keeps its old file as config.v7.json.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { memoryLogger } from '../../../firmware/core/log.js';

t.test('a version 7 config keeps its PTZ settings and gains ptz.onvif', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ptz-v7-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ptz = {
    domes: [{ id: 'dome1', name: 'Gate dome', channel: null, bus: 'bus1', protocol: 'p', address: 3, baudRate: 4800, presetSpeed: false, park: { preset: 1, idleSec: 120 }, presets: [{ number: 1, name: 'Gate' }] }],
    tours: [{ id: 'patrol', dome: 'dome1', loop: true, steps: [{ preset: 1, dwellSec: 10, speed: 1 }] }],
  };
  const v7 = JSON.stringify({ version: 7, ptz });
  writeFileSync(join(dir, 'config.json'), v7);
  const store = new ConfigStore({ dir, log: memoryLogger('config') });
  t.equal((await store.load()).migratedFrom, 7);
  t.ok(CONFIG_VERSION >= 8, 'migrated to the current version, which has ptz.onvif');
  t.same(store.get().ptz, { ...ptz, onvif: [] });
  t.equal(readFileSync(join(dir, 'config.v7.json'), 'utf8'), v7, 'the original is kept');
  t.ok(existsSync(join(dir, 'config.json')));
  await t.rejects(store.set('ptz.onvif', [{ channel: 'Cam 1' }]), /ptz\.onvif\[0\]\.channel: "Cam 1" does not match/);
  await store.set('ptz.onvif', [{ channel: 'cam1', park: { preset: 2, idleSec: 60 } }]);
  t.same(store.get().ptz.onvif, [{ channel: 'cam1', park: { preset: 2, idleSec: 60 } }]);
});
