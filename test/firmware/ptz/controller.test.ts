// End to end over a real socat pty pair: PelcoController -> SerialBus ->
// SerialLine -> pty -> simulated dome, and the dome's answers back.
import t from 'tap';
import { PelcoController, PtzError, encode } from '../../../firmware/ptz/index.js';
import { rig } from './rig.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const protocol of ['d', 'p'] as const) {
  t.test(`Pelco-${protocol.toUpperCase()}: the dome moves, stops, and its position round-trips`, async (t) => {
    const { sim, dome } = await rig(t, { protocol });
    const ptz = dome(1, protocol);
    await ptz.move(0.5, 0, 0);
    const move = await sim.waitFor((c) => c.name === 'move');
    // 0.5 of 0x3F rounds to 32 (0x20).
    t.match(move, { protocol, address: 1, pan: 'right', panSpeed: 32, turbo: false });
    await sleep(300);
    await ptz.stop();
    const stop = await sim.waitFor((c) => c.name === 'stop');
    const at = sim.position();
    // 32/63 of 60 deg/s, for as long as the dome saw it moving (its own clock).
    const expected = ((32 / 63) * 60 * 100 * (stop.t - move.t)) / 1000;
    t.ok(stop.t - move.t >= 250, 'moved for about the 0.3 s between the commands');
    t.ok(Math.abs(at.pan - expected) <= 2, `panned to ${at.pan}, expected ${expected.toFixed(1)} hundredths of a degree`);
    const pos = await ptz.position();
    t.same(pos, { pan: at.pan, tilt: 0, zoom: 0 }, 'what the dome says is where it is');
    t.same(
      sim.log.map((c) => c.name),
      ['move', 'stop', 'query-pan', 'query-tilt', 'query-zoom'],
    );
    await sleep(100);
    t.same(await ptz.position(), pos, 'stopped means stopped');
  });
}

t.test('tilt above the horizon comes back negative; zoom and pan values exact', async (t) => {
  const { sim, dome } = await rig(t, { protocol: 'p' });
  sim.setPosition({ pan: 27015, tilt: -1000, zoom: 40000 });
  t.same(await dome(1, 'p').position(), { pan: 27015, tilt: -1000, zoom: 40000 });
  // The dome sent tilt as 36000 - 1000.
  t.equal(sim.commands('query-tilt')[0]!.value, 35000);
});

t.test('presets: set with a name, recall, clear', async (t) => {
  const { sim, dome } = await rig(t);
  const ptz = dome(1);
  sim.setPosition({ pan: 12000, tilt: 3000, zoom: 1000 });
  await ptz.setPreset(5, 'Gate');
  await ptz.setPreset(2);
  // The dome stores where it is when the frame arrives: wait for it before moving on.
  await sim.waitFor((c) => c.name === 'preset-set' && c.preset === 2);
  t.same(ptz.presets(), [
    { number: 2, name: 'Preset 2' },
    { number: 5, name: 'Gate' },
  ]);
  sim.setPosition({ pan: 100, tilt: 100, zoom: 0 });
  await ptz.gotoPreset(5);
  await sim.waitFor((c) => c.name === 'preset-goto');
  t.same(sim.position(), { pan: 12000, tilt: 3000, zoom: 1000 });
  t.same(await ptz.position(), { pan: 12000, tilt: 3000, zoom: 1000 });
  await ptz.clearPreset(5);
  await sim.waitFor((c) => c.name === 'preset-clear');
  t.same([...sim.presets().keys()], [2]);
  t.same(ptz.presets(), [{ number: 2, name: 'Preset 2' }]);
});

t.test('zoom speed is sent once per change; lens, aux, scan and pattern commands arrive', async (t) => {
  const { sim, dome } = await rig(t);
  const ptz = dome(1);
  await ptz.move(0, 0, 1);
  await ptz.move(0, 0, 1);
  await ptz.move(0, 0, -0.3);
  await ptz.move(0.2, -1, 0, { turbo: true });
  await ptz.focus(-1); // keeps the pan/tilt going: Pelco frames carry the whole state
  await ptz.iris(1);
  await ptz.stop();
  await ptz.aux(2, true);
  await ptz.aux(2, false);
  await ptz.autoScan(true);
  await ptz.autoScan(false);
  await ptz.pattern('record', 1);
  await ptz.pattern('end-record', 1);
  await ptz.pattern('run', 1);
  await sim.waitFor((c) => c.name === 'pattern-run');
  t.same(
    sim.log.map((c) => c.name + (c.speed !== undefined ? `:${c.speed}` : '')),
    [
      'zoom-speed:3',
      'move',
      'move',
      'zoom-speed:1',
      'move',
      'move',
      'move',
      'move',
      'stop',
      'aux-on',
      'aux-off',
      'auto-scan-on',
      'auto-scan-off',
      'pattern-start',
      'pattern-stop',
      'pattern-run',
    ],
  );
  const moves = sim.commands('move');
  t.match(moves[0], { zoom: 'tele' });
  t.match(moves[2], { zoom: 'wide' });
  t.match(moves[3], { pan: 'right', turbo: true, tilt: 'down', tiltSpeed: 63 });
  t.match(moves[4], { pan: 'right', turbo: true, tilt: 'down', focus: 'near' });
  t.match(moves[5], { pan: 'right', focus: 'near', iris: 'open' });
  t.same(sim.aux(), []);
  t.match(sim.commands('pattern-run')[0], { pattern: 1 });
});

t.test('garbage and truncated frames on the line: the dome resyncs', async (t) => {
  const { sim, line, dome } = await rig(t);
  const ptz = dome(1);
  await line.write(Buffer.from([0x13, 0x37, 0xff, 0x01, 0x00])); // noise, then a frame cut short
  await line.write(Buffer.from([0xa0, 0x00, 0x00])); // half a Pelco-P frame
  await ptz.gotoPreset(7);
  await line.write(encode('d', 1, { type: 'motion', pan: 'left', panSpeed: 9 }).subarray(0, 6)); // no checksum
  await ptz.stop();
  await sim.waitFor((c) => c.name === 'stop');
  t.same(
    sim.log.map((c) => c.name),
    ['preset-goto', 'stop'],
  );
  t.ok(sim.stats.discarded >= 8, `${sim.stats.discarded} bytes discarded`);
});

t.test('noise before every answer: the firmware still reads the position', async (t) => {
  // A checksum-failing window, a stray sync byte and an answer for another dome precede each reply.
  const { sim, dome } = await rig(t, { replyNoise: [0x00, 0xff, 0x55, ...encode('d', 9, { type: 'pan-position', value: 1 })] });
  sim.setPosition({ pan: 4500 });
  t.same(await dome(1).position(), { pan: 4500, tilt: 0, zoom: 0 });
});

t.test('an answer cut short before every real one: the firmware reads the real position, not the remains', async (t) => {
  // The first five bytes of an answer from the same dome with another value: a parser that took
  // the cut frame and the start of the next one would read a wrong position or a bad checksum.
  const cut = Array.from(encode('d', 1, { type: 'pan-position', value: 0x1234 }).subarray(0, 5));
  const { sim, dome } = await rig(t, { replyNoise: cut });
  sim.setPosition({ pan: 4500, tilt: 300, zoom: 20 });
  t.same(await dome(1).position(), { pan: 4500, tilt: 300, zoom: 20 });
  t.equal(sim.stats.replies, 3);
});

t.test('a dome that never answers: clear timeout error, and the bus serves the other domes', async (t) => {
  const { sim, dome } = await rig(t, { addresses: [1, 2, 3], silent: true });
  const mute = dome(3, 'd', 300);
  const other = dome(2);
  const q = mute.position().catch((e: unknown) => e);
  await other.move(-1, 0, 0);
  await other.gotoPreset(1);
  const err = await q;
  t.ok(err instanceof PtzError);
  t.equal((err as PtzError).code, 'ETIMEDOUT');
  t.equal((err as PtzError).message, 'dome 3 (Pelco-D address 3) did not answer the pan position query within 300 ms');
  await sim.waitFor((c) => c.address === 2 && c.name === 'preset-goto');
  t.same(
    sim.commands(undefined, 2).map((c) => c.name),
    ['move', 'preset-goto'],
  );
  // And dome 3 can still be driven afterwards.
  await mute.stop();
  await sim.waitFor((c) => c.address === 3 && c.name === 'stop');
});

t.test('frames for other addresses are ignored by the dome', async (t) => {
  const { sim, dome } = await rig(t, { addresses: [1] });
  await dome(4).move(1, 0, 0);
  await dome(1).stop();
  await sim.waitFor((c) => c.name === 'stop');
  t.same(
    sim.log.map((c) => `${c.address}:${c.name}`),
    ['1:stop'],
  );
  t.equal(sim.stats.otherAddress, 1);
});

t.test('a flood of 10,000 commands for dome 1 does not starve dome 2', async (t) => {
  const { sim, bus } = await rig(t, { addresses: [1, 2] });
  const d1 = bus.device({ name: 'dome 1', queueLimit: 16 });
  const d2 = bus.device({ name: 'dome 2', queueLimit: 16 });
  const flood = Array.from({ length: 10_000 }, (_, i) =>
    d1.send(encode('d', 1, { type: 'motion', pan: 'right', panSpeed: i % 64 })),
  );
  const started = Date.now();
  const presets = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const mine = presets.map((n) => d2.send(encode('d', 2, { type: 'preset-goto', preset: n })));
  t.same(await Promise.all(mine), Array(10).fill('sent'));
  const elapsed = Date.now() - started;
  const outcomes = await Promise.all(flood);
  await sim.waitFor((c) => c.address === 2 && c.preset === 10);
  // Round-robin puts dome 1's last frames after dome 2's: wait for all 17.
  await sim.waitFor(() => sim.commands('move', 1).length >= 17, 10_000);
  await sleep(50);
  t.same(
    sim.commands('preset-goto', 2).map((c) => c.preset),
    presets,
    'dome 2 got all of its commands, in order',
  );
  // Round-robin: never more than one dome-1 frame between two of dome 2's.
  const order = sim.log.map((c) => c.address);
  const lastOf2 = order.lastIndexOf(2);
  t.ok(order.slice(0, lastOf2 + 1).filter((a) => a === 1).length <= 11, `order: ${order.slice(0, 24).join('')}`);
  t.ok(elapsed < 5000, `dome 2 served in ${elapsed} ms`);
  // Dome 1 keeps the first frame and the 16 newest; the rest are dropped, and say so.
  t.equal(outcomes.filter((o) => o === 'sent').length, 17);
  t.equal(outcomes.filter((o) => o === 'dropped').length, 9983);
  t.equal(sim.commands('move', 1).length, 17);
  t.equal(sim.commands('move', 1).at(-1)!.panSpeed, 9999 % 64, "dome 1 ends with the flood's last command");
});

t.test('10,000 joystick moves through the controller coalesce: dome 2 still gets through', async (t) => {
  const { sim, dome } = await rig(t, { addresses: [1, 2] });
  const one = dome(1);
  const two = dome(2);
  const moves = Array.from({ length: 10_000 }, (_, i) => one.move(((i % 100) + 1) / 100, 0, 0));
  await two.gotoPreset(3);
  await Promise.all(moves);
  await sim.waitFor((c) => c.address === 2 && c.name === 'preset-goto');
  await sim.waitFor((c) => c.address === 1 && c.panSpeed === 63, 10_000);
  await sleep(50);
  const ones = sim.commands('move', 1);
  t.ok(ones.length <= 3, `${ones.length} frames for 10,000 moves`);
  t.equal(ones.at(-1)!.panSpeed, 63, 'the last move wins');
});

t.test('bad arguments are refused before anything is sent', async (t) => {
  const { sim, dome } = await rig(t);
  const ptz = dome(1);
  await t.rejects(ptz.move(2, 0, 0), /pan speed must be -1..1, got 2/);
  await t.rejects(ptz.move(0, Number.NaN, 0), /tilt speed/);
  await t.rejects(ptz.gotoPreset(0), /preset must be an integer 1..255/);
  await t.rejects(ptz.aux(9, true), /aux/);
  t.equal(sim.log.length, 0);
});

t.test('a preset command pushed out of a full queue is an error, a move is not', async (t) => {
  const { sim, bus } = await rig(t);
  const ptz = new PelcoController({ protocol: 'd', address: 1, device: bus.device({ name: 'dome 1', queueLimit: 1 }) });
  const first = ptz.setPreset(1); // on the wire at once
  const second = ptz.setPreset(2).catch((e: unknown) => e); // waits...
  const third = ptz.setPreset(3); // ...and is pushed out by this one
  await first;
  await third;
  const err = await second;
  t.ok(err instanceof PtzError);
  t.match(err, { code: 'DROPPED', message: 'dome 1 (Pelco-D address 1): preset-set not sent (dropped)' });
  t.same(ptz.presets(), [
    { number: 1, name: 'Preset 1' },
    { number: 3, name: 'Preset 3' },
  ]);
  await sim.waitFor((c) => c.name === 'preset-set' && c.preset === 3);
  t.same(
    sim.commands('preset-set').map((c) => c.preset),
    [1, 3],
  );
});
