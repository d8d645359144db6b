import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, retained, Watcher } from './broker.js';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';
import { OnvifCameraSim, testJpeg } from '../../fixtures/onvif-camera/simulator.js';
import { startCamera } from '../media/rtsp/camera.js';

/** A sim-board var dir whose config has MQTT on `brokerUrl` and free ports, plus `extra` sections; the CLI arguments that use it. */
async function boxConfig(brokerUrl: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-var-'));
  // Written as a file rather than by `dvr config set` runs: each is a Node start.
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  const config = {
    version: CONFIG_VERSION,
    system: { name: 'Yard Gate' },
    network: { httpPort: await freePort(), httpsPort: await freePort(), rtspPort: await freePort(), bindAddress: '127.0.0.1' },
    mqtt: { enabled: true, url: brokerUrl },
    ...extra,
  };
  writeFileSync(join(varDir, 'data', 'config', 'config.json'), JSON.stringify(config));
  return ['--board', 'sim', '--var', varDir];
}

t.test('with mqtt.enabled the firmware runs the mqtt service: online, service states published, offline on SIGTERM', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const common = await boxConfig(broker.url);
  const w = await Watcher.connect(broker.url, ['dvr/yard_gate/#']);
  t.teardown(() => w.close());
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('online', async () => w.on('dvr/yard_gate/availability').some((s) => s.text === 'online'), 60_000);
  const st = JSON.parse((await dvr(['status', '--json', ...common])).stdout) as { services: { name: string; state: string }[] };
  t.match(st.services.find((s) => s.name === 'mqtt'), { state: 'running' });
  // The supervisor's serviceState events after the mqtt service started reach the broker.
  await waitFor('systemd service state', async () => (await retained(broker.url, 'dvr/yard_gate/service/systemd/state'))?.includes('"running"'));
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
  t.equal(await retained(broker.url, 'dvr/yard_gate/availability'), 'offline', 'a clean stop says offline');
});

t.test('an IP channel with ONVIF: the camera\'s motion reaches MQTT, and its PTZ answers the preset button', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const sim = new OnvifCameraSim({ streams: { main: { uri: 'rtsp://127.0.0.1:1/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:1/sub', width: 640, height: 360 } }, discoveryPort: null });
  await sim.start();
  t.teardown(() => sim.stop());
  sim.ptz.presets.set('3', { token: '3', name: 'Gate', position: { x: 0.5, y: -0.2, zoom: 0 } });
  const common = await boxConfig(broker.url, {
    channels: [
      {
        id: 'dome',
        name: 'Dome',
        // No stream needed for this: the camera's events and PTZ go over ONVIF.
        main: { url: 'rtsp://127.0.0.1:1/main' },
        username: 'admin',
        password: 'admin12345',
        onvif: { host: '127.0.0.1', port: sim.port, ptz: true },
      },
    ],
    ptz: { domes: [] },
  });
  const w = await Watcher.connect(broker.url, ['dvr/yard_gate/#']);
  t.teardown(() => w.close());
  const ha = await Watcher.connect(broker.url, ['homeassistant/#']);
  t.teardown(() => ha.close());
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  await waitFor('online', async () => w.on('dvr/yard_gate/availability').some((s) => s.text === 'online'), 60_000);
  await waitFor('the ONVIF subscription', async () => sim.events.subs.size > 0, 30_000);
  sim.motion(true);
  await waitFor('motion on MQTT', async () => w.on('dvr/yard_gate/channel/dome/motion/state').some((s) => s.text.includes('ON')), 30_000);
  sim.motion(false);
  await waitFor('motion over on MQTT', async () => w.on('dvr/yard_gate/channel/dome/motion/state').at(-1)?.text.includes('OFF'), 30_000);
  t.pass('the camera\'s motion start and end reached MQTT');

  // The preset stored on the camera, recalled from MQTT as Home Assistant's button would.
  await waitFor('the preset button announced to Home Assistant', async () => ha.seen.some((m) => m.topic.startsWith('homeassistant/button/') && m.text.includes('dome Gate')), 30_000);
  w.client.publish('dvr/yard_gate/ptz/dome/preset/set', JSON.stringify({ preset: 3 }));
  const reply = await w.waitJson<{ ok?: boolean; error?: string }>('dvr/yard_gate/response', () => true, 30_000);
  t.match(reply, { ok: true }, `the command's reply: ${JSON.stringify(reply)}`);
  await waitFor('the dome at the preset', async () => Math.abs(sim.ptz.position().x - 0.5) < 0.01, 30_000);
  t.pass('the dome moved to preset 3');

  // What Home Assistant is told of the channel and the sim board's two disks, and the disks' usage.
  const announced = (component: string, objectId: string) => ha.seen.some((m) => m.topic.startsWith(`homeassistant/${component}/`) && m.topic.endsWith(`/${objectId}/config`) && m.text.includes('"state_topic"'));
  const expected: [string, string][] = [['binary_sensor', 'dome_motion'], ['binary_sensor', 'dome_tamper'], ['sensor', 'dome_camera'], ['sensor', 'disk_bay1'], ['sensor', 'disk_bay1_usage'], ['sensor', 'disk_bay2_usage']];
  await waitFor('the channel and disk sensors announced', async () => expected.every(([c, o]) => announced(c, o)), 30_000).catch(() => {
    throw new Error(`announced: ${ha.seen.map((m) => m.topic).join(', ')}`);
  });
  t.pass(`discovery configs for ${expected.map(([, o]) => o).join(', ')}`);
  await waitFor('disk usage reported', async () => w.on('dvr/yard_gate/disk/bay1/usage').some((m) => /"used_percent":\d/.test(m.text)), 30_000);
  t.pass('the disk usage figures are published for the usage sensors');
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
});

t.test('an IP channel recorded on events: nothing until the camera sees motion, then around it; and while switched on from Home Assistant', async (t) => {
  const broker = await Broker.start();
  t.teardown(() => broker.stop());
  const camera = await startCamera();
  t.teardown(() => camera.stop());
  const sim = new OnvifCameraSim({ streams: { main: { uri: camera.url, width: 320, height: 240 }, sub: { uri: camera.url, width: 320, height: 240 } }, discoveryPort: null });
  await sim.start();
  t.teardown(() => sim.stop());
  const common = await boxConfig(broker.url, {
    channels: [
      { id: 'drive', name: 'Drive', main: { url: camera.url }, username: 'admin', password: 'admin12345', onvif: { host: '127.0.0.1', port: sim.port }, recording: { mode: 'events' } },
    ],
    linkage: { rules: [{ id: 'drive-motion', name: 'Drive motion', trigger: { type: 'motion', channel: 'drive' }, actions: [{ type: 'record', channels: ['drive'], preSec: 2, postSec: 1 }, { type: 'snapshot', channels: ['drive'] }] }] },
  });
  const snapshots = join(common[3]!, 'data', 'snapshots', 'drive');
  const pictures = () => (existsSync(snapshots) ? readdirSync(snapshots).filter((n) => n.endsWith('.jpg')) : []);
  const w = await Watcher.connect(broker.url, ['dvr/yard_gate/#']);
  t.teardown(() => w.close());
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  type Status = { channels: { channel: string; state: string }[]; writers: Record<string, { frames: number }> };
  const status = async () => JSON.parse((await dvr(['status', '--json', ...common])).stdout) as Status;
  const written = async () => Object.entries((await status()).writers).find(([k]) => k.includes('drive') && k.includes('main'))?.[1].frames ?? 0;
  await waitFor('the camera streaming', async () => (await status()).channels.find((c) => c.channel === 'drive')?.state === 'streaming', 60_000);
  await waitFor('the ONVIF subscription', async () => sim.events.subs.size > 0, 30_000);
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(await written(), 0, 'streaming for 3 s without an event: nothing written');
  t.same(pictures(), [], 'no snapshot before the event');

  sim.motion(true);
  await waitFor('frames written after the motion', async () => (await written()) > 0, 30_000);
  await waitFor('the snapshot of the event saved', async () => pictures().length > 0, 30_000);
  t.equal(pictures().length, 1, 'one snapshot for one motion event');
  t.ok(readFileSync(join(snapshots, pictures()[0]!)).equals(await testJpeg()), "the saved picture is the camera's own JPEG, fetched with its Digest login");
  t.equal(sim.snapshotsServed, 1, 'the camera served the picture once');
  await new Promise((r) => setTimeout(r, 1000));
  sim.motion(false);
  await waitFor('motion over on MQTT', async () => w.on('dvr/yard_gate/channel/drive/motion/state').at(-1)?.text.includes('OFF'), 30_000);
  // Post-record is 1 s, the writer flushes each second: then the count must stand still.
  await new Promise((r) => setTimeout(r, 3500));
  const afterEvent = await written();
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(await written(), afterEvent, `recording stopped after the post-record (${afterEvent} frames for the event)`);
  t.ok(afterEvent >= 25, 'the event holds its pre-record, the motion and its post-record (at least a second of frames)');

  w.client.publish('dvr/yard_gate/channel/drive/recording/set', 'ON');
  const reply = await w.waitJson<{ ok?: boolean; result?: { detail?: string } }>('dvr/yard_gate/response', () => true, 30_000);
  t.match(reply, { ok: true }, `manual recording switched on: ${JSON.stringify(reply)}`);
  await waitFor('the switch shows ON', async () => w.on('dvr/yard_gate/channel/drive/recording/state').at(-1)?.text.includes('ON'), 30_000);
  await waitFor('frames written while switched on', async () => (await written()) > afterEvent + 25, 30_000);
  w.client.publish('dvr/yard_gate/channel/drive/recording/set', 'OFF');
  await waitFor('the switch shows OFF', async () => w.on('dvr/yard_gate/channel/drive/recording/state').at(-1)?.text.includes('OFF'), 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  const afterManual = await written();
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(await written(), afterManual, 'switched off: recording stops');
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0);
});
