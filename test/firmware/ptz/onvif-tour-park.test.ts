// Tours and park of an ONVIF PTZ camera, configured in the `ptz` section and
// run through the same PtzDirectory API as RS-485 domes, against the ONVIF
// camera simulator over HTTP/SOAP. Tours and park follow a ManualClock; the
// camera answers in real time, so each check waits for it to point there.
import t, { type Test } from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { OnvifCamera, OnvifPtz } from '../../../firmware/onvif/index.js';
import { PtzDirectory, ptzSettingsSchema } from '../../../firmware/ptz/index.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import type { Vector } from '../../fixtures/onvif-camera/ptz.js';

const streams = { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Where each preset of the camera points (set on the camera by its installer).
const PRESETS: Record<number, Vector> = {
  1: { x: 0, y: 0, zoom: 0 }, // home: the gate
  2: { x: 0.5, y: -0.2, zoom: 0.1 },
  3: { x: -0.6, y: 0.3, zoom: 0.4 },
};

async function rig(t: Test, ptz: unknown) {
  const sim = new OnvifCameraSim({ streams });
  await sim.start();
  for (const [n, position] of Object.entries(PRESETS)) sim.ptz.presets.set(n, { token: n, name: `Preset ${n}`, position });
  const controller = new OnvifPtz({ camera: new OnvifCamera({ host: sim.host, port: sim.port, username: sim.username, password: sim.password }) });
  const clock = new ManualClock();
  const log = memoryLogger('ptz');
  const dir = new PtzDirectory(ptzSettingsSchema.parse(ptz), [], { clock, log });
  dir.addController('cam1', 'cam1', controller);
  for (const s of dir.services) await s.start();
  t.teardown(async () => {
    for (const s of dir.services) await s.stop();
    await sim.stop();
  });
  const recalls = () => sim.requests.filter((r) => r.action === 'GotoPreset').length;
  /** The preset the camera points at once it has had `n` recalls (undefined: somewhere else). */
  const pointsAt = async (n: number): Promise<number | undefined> => {
    const end = Date.now() + 5000;
    while (recalls() < n && Date.now() < end) await sleep(5);
    await sleep(30); // a recall that should not come would show by now
    const p = sim.ptz.position();
    // The simulator wraps pan through floating point: -0.6 comes back as -0.6000000000000001.
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    const hit = Object.entries(PRESETS).find(([, v]) => near(v.x, p.x) && near(v.y, p.y) && near(v.zoom, p.zoom));
    return hit ? Number(hit[0]) : undefined;
  };
  return { sim, dir, clock, log, recalls, pointsAt };
}

t.test('a tour on an ONVIF camera visits its presets in order, each for its dwell, and loops', async (t) => {
  const { sim, dir, clock, recalls, pointsAt } = await rig(t, {
    tours: [{ id: 'yard', dome: 'cam1', steps: [{ preset: 3, dwellSec: 5 }, { preset: 1, dwellSec: 10 }, { preset: 2, dwellSec: 2 }] }],
  });
  t.same(dir.services.map((s) => s.name), ['ptz-onvif'], 'the tour runs in the ONVIF cameras\' service');
  sim.ptz.move({ x: 0.3 }); // somewhere else to start from
  await sleep(50);
  sim.ptz.stop();
  dir.startTour('cam1', 'yard');
  t.equal(dir.tourRunning('cam1'), 'yard');
  t.equal(await pointsAt(1), 3, 'first preset at once');
  await clock.advance(4999);
  t.equal(recalls(), 1, 'still dwelling at 4.999 s');
  await clock.advance(1);
  t.equal(await pointsAt(2), 1, 'second preset at 5 s');
  await clock.advance(10_000);
  t.equal(await pointsAt(3), 2, 'third at 15 s');
  await clock.advance(2000);
  t.equal(await pointsAt(4), 3, 'back to the first at 17 s');
  // A user command through the same API ends the tour.
  await dir.dome('cam1').move(0.2, 0, 0);
  await dir.dome('cam1').stop();
  t.equal(dir.tourRunning('cam1'), undefined);
  await clock.advance(60_000);
  t.equal(recalls(), 4, 'no more recalls once stopped');
  t.equal(clock.pending(), 0, 'no timers left behind');
});

t.test('park: an ONVIF camera returns home after the idle time, counted from the last user command', async (t) => {
  const { sim, dir, clock, recalls, pointsAt } = await rig(t, {
    onvif: [{ channel: 'cam1', park: { preset: 1, idleSec: 60 } }],
    tours: [{ id: 'once', dome: 'cam1', loop: false, steps: [{ preset: 2, dwellSec: 100 }] }],
  });
  const cam = dir.dome('cam1');
  await cam.move(0.5, 0.5, 0);
  await sleep(100);
  await cam.stop();
  t.equal(await pointsAt(0), undefined, 'looking somewhere else');
  await clock.advance(59_999);
  t.equal(recalls(), 0, 'not yet');
  await clock.advance(1);
  t.equal(await pointsAt(1), 1, 'home after 60 s idle');
  t.equal(dir.dome('cam1').parked, true);
  await clock.advance(120_000);
  t.equal(recalls(), 1, 'parks once, not every minute');
  // No park while a tour runs; the countdown starts again when it ends.
  dir.startTour('cam1', 'once');
  t.equal(await pointsAt(2), 2);
  await clock.advance(100_000);
  t.equal(dir.tourRunning('cam1'), undefined, 'the one-shot tour ended');
  await clock.advance(59_999);
  t.equal(recalls(), 2);
  await clock.advance(1);
  t.equal(await pointsAt(3), 1, 'home 60 s after the tour ended');
  t.equal(sim.ptz.moving().panTilt, false);
});

t.test('bad requests get clear errors and the camera keeps working', async (t) => {
  const { dir, log, pointsAt } = await rig(t, {
    onvif: [{ channel: 'cam1', park: null }, { channel: 'cam9', park: { preset: 1, idleSec: 30 } }],
    tours: [{ id: 'yard', dome: 'cam1', steps: [{ preset: 3, dwellSec: 5 }] }],
  });
  t.throws(() => dir.startTour('cam1', 'nope'), /no PTZ tour "nope"/);
  t.throws(() => dir.startTour('cam7', 'yard'), /no PTZ dome "cam7"/);
  await t.rejects(dir.dome('cam1').renamePreset(1, 'Gate'), { code: 'UNSUPPORTED', message: /the camera keeps its preset names/ });
  t.match(log.ring.tail(10, 'warn'), [{ msg: 'park configured for a channel without ONVIF PTZ', channel: 'cam9' }]);
  t.throws(() => ptzSettingsSchema.parse({ onvif: [{ channel: 'cam1', park: { preset: 1, idleSec: 0 } }] }), /onvif\[0\]\.park\.idleSec: .*1\.\.86400/);
  await dir.dome('cam1').gotoPreset(2);
  t.equal(await pointsAt(1), 2, 'still driven');
});

t.test('a box whose config gives ONVIF cameras no tours or park has no extra service', async (t) => {
  const deps = () => ({ clock: new ManualClock(), log: memoryLogger('ptz') });
  // Never reached: the camera is contacted on the first command only.
  const camera = () => new OnvifPtz({ camera: new OnvifCamera({ host: '127.0.0.1', port: 9, username: 'u', password: 'p' }) });
  t.same(new PtzDirectory(ptzSettingsSchema.parse({}), [], deps()).services, []);

  const rs485Only = ptzSettingsSchema.parse({
    domes: [{ id: 'gate', name: 'Gate', bus: 'bus1', address: 1 }],
    tours: [{ id: 'x', dome: 'gate', steps: [{ preset: 1, dwellSec: 1 }] }],
  });
  const lines = [{ name: 'bus1', port: '/nonexistent/tty', direction: 'none' as const }];
  const withDome = new PtzDirectory(rs485Only, lines, deps());
  t.same(withDome.services.map((s) => s.name), ['ptz-bus1'], 'the RS-485 line only, as before');
  withDome.addController('cam1', 'cam1', camera());
  t.throws(() => withDome.startTour('cam1', 'x'), /PTZ camera "cam1": tours of ONVIF cameras run when the config names one/);

  const named = new PtzDirectory(ptzSettingsSchema.parse({ tours: [{ id: 'x', dome: 'cam1', steps: [{ preset: 1, dwellSec: 1 }] }] }), [], deps());
  named.addController('cam1', 'cam1', camera());
  t.throws(() => named.startTour('cam1', 'x'), { code: 'STOPPED', message: 'PTZ dome "cam1": tours do not run while its PTZ service is stopped' });
});
