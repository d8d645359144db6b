// The dome simulator the PTZ tests rely on: its own decoding, motion model,
// resync, and CLI. Fuzzed like any parser fed from a serial line.
import t from 'tap';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { SerialLine } from '../../../drivers/serial/index.js';
import { encode, isFrame } from '../../../firmware/ptz/index.js';
import { PtzDomeSim, ptyPair } from '../../fixtures/ptz-dome-sim.js';

const bytes = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

function simAt(options: ConstructorParameters<typeof PtzDomeSim>[0] = {}) {
  let now = 0;
  const sim = new PtzDomeSim({ now: () => now, ...options });
  return { sim, advance: (ms: number) => (now += ms) };
}

t.test('motion follows the commanded speed over time', async (t) => {
  const { sim, advance } = simAt();
  sim.handle(bytes('ff 01 00 02 3f 00 42')); // right at 0x3F = 60 deg/s (01+02+3F = 42)
  advance(1000);
  t.equal(sim.position().pan, 6000);
  sim.handle(bytes('ff 01 00 02 ff 00 02')); // right at turbo (01+02+FF = 102 -> 02) = 120 deg/s
  advance(500);
  t.equal(sim.position().pan, 12000);
  sim.handle(bytes('ff 01 00 04 3f 00 44')); // left at 0x3F for 2.5 s: 120 - 150 degrees wraps to 330
  advance(2500);
  t.equal(sim.position().pan, 33000);
  sim.handle(bytes('ff 01 00 10 00 3f 50')); // tilt down at 0x3F (01+10+3F = 50)
  advance(10_000);
  t.equal(sim.position().tilt, 9000, 'tilt stops at straight down');
  sim.handle(bytes('ff 01 00 08 00 3f 48')); // tilt up
  advance(10_000);
  t.equal(sim.position().tilt, -1500, 'and at 15 degrees above the horizon');
  sim.handle(bytes('ff 01 00 25 00 03 29')); // zoom speed 3: full range in 2 s
  sim.handle(bytes('ff 01 00 20 00 00 21')); // zoom in
  advance(1000);
  t.equal(sim.position().zoom, 32768);
  sim.handle(bytes('ff 01 00 00 00 00 01')); // stop
  advance(1000);
  t.same(sim.position(), { pan: 33000, tilt: -1500, zoom: 32768 });
  t.same(
    sim.log.map((c) => c.name),
    ['move', 'move', 'move', 'move', 'move', 'zoom-speed', 'move', 'stop'],
  );
});

t.test('Pelco-P: 0-based wire address, its own bit layout, turbo 0x40', async (t) => {
  const { sim, advance } = simAt({ protocol: 'p', addresses: [1, 2] });
  sim.handle(bytes('a0 01 00 02 40 00 af 4c')); // dome 2 (wire 01), right turbo: 0F^01^02^40 = 4C
  sim.handle(bytes('a0 00 01 00 00 00 af 0e')); // dome 1, focus far (data 1 bit 0)
  advance(1000);
  t.equal(sim.position(2).pan, 12000);
  t.equal(sim.state(1).focus, 'far');
  t.match(sim.log[0], { address: 2, pan: 'right', turbo: true });
  sim.handle(bytes('ff 01 00 02 3f 00 42')); // a Pelco-D frame on a Pelco-P dome: noise
  t.equal(sim.log.length, 2);
  t.equal(sim.stats.discarded, 7);
});

t.test('presets, aux, scan and patterns change the dome state', async (t) => {
  const { sim } = simAt();
  sim.setPosition({ pan: 100, tilt: 200, zoom: 300 });
  sim.handle(encode('d', 1, { type: 'preset-set', preset: 4 }));
  sim.setPosition({ pan: 0, tilt: 0, zoom: 0 });
  sim.handle(encode('d', 1, { type: 'preset-goto', preset: 4 }));
  t.same(sim.position(), { pan: 100, tilt: 200, zoom: 300 });
  sim.handle(encode('d', 1, { type: 'preset-goto', preset: 5 }));
  t.match(sim.log.at(-1), { name: 'preset-goto', preset: 5, known: false });
  sim.handle(encode('d', 1, { type: 'aux-on', aux: 3 }));
  t.same(sim.aux(), [3]);
  sim.handle(encode('d', 1, { type: 'auto-scan', on: true }));
  t.equal(sim.state().scanning, true);
  sim.handle(encode('d', 1, { type: 'auto-scan', on: false }));
  t.equal(sim.state().scanning, false);
  sim.handle(encode('d', 1, { type: 'pattern-start', pattern: 0 }));
  t.equal(sim.state().recording, true);
  sim.handle(encode('d', 1, { type: 'pattern-stop', pattern: 0 }));
  t.equal(sim.state().recording, false);
  sim.handle(bytes('ff 01 00 0f 00 00 10')); // remote reset: not modelled, logged
  t.match(sim.log.at(-1), { name: 'unknown-extended', code: 0x0f });
});

t.test('garbage, truncated frames and other addresses', async (t) => {
  const { sim } = simAt({ addresses: [1] });
  sim.handle(bytes('00 ff 01 00 02')); // noise and a frame cut short
  sim.handle(bytes('ff 05 00 00 00 00 05')); // for dome 5
  sim.handle(bytes('ff 01 00 00 00 00 01')); // stop, for us
  t.same(
    sim.log.map((c) => c.name),
    ['stop'],
  );
  t.equal(sim.stats.otherAddress, 1);
  t.ok(sim.stats.discarded >= 4);
  t.throws(() => sim.position(7), /no simulated dome at address 7/);
});

t.test('fuzz: the decoder survives anything and only acts on valid frames', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom('d' as const, 'p' as const, 'auto' as const), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), (protocol, chunks) => {
      const { sim } = simAt({ protocol, addresses: Array.from({ length: 256 }, (_, i) => i + 1) });
      for (const c of chunks) sim.handle(c);
      for (const c of sim.log) {
        // Cross-checked against the firmware's (separately written) validator.
        assert.ok(isFrame(c.protocol, Buffer.from(c.hex.replace(/ /g, ''), 'hex')), c.hex);
      }
      const p = sim.position(1);
      assert.ok(p.pan >= 0 && p.pan < 36000 && p.tilt >= -1500 && p.tilt <= 9000 && p.zoom >= 0 && p.zoom <= 0xffff);
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 random streams');
});

t.test('fuzz: every valid frame among noise without sync bytes is decoded', async (t) => {
  const noise = fc.uint8Array({ maxLength: 12 }).map((a) => a.map((b) => (b === 0xff || b === 0xa0 ? 0x11 : b)));
  const frame = fc
    .tuple(fc.constantFrom('d' as const, 'p' as const), fc.integer({ min: 1, max: 255 }))
    .map(([proto, preset]) => encode(proto, 1, { type: 'preset-goto', preset }));
  fc.assert(
    fc.property(fc.array(fc.tuple(noise, frame), { maxLength: 10 }), (parts) => {
      const { sim } = simAt({ protocol: 'auto' });
      for (const [n, f] of parts) {
        sim.handle(n);
        sim.handle(f);
      }
      assert.deepEqual(
        sim.log.map((c) => c.hex.replace(/ /g, '')),
        parts.map(([, f]) => f.toString('hex')),
      );
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 noisy streams');
});

t.test('CLI: prints ready, then one JSON line per command; bad arguments exit 2', async (t) => {
  const pair = await ptyPair();
  t.teardown(() => pair.close());
  const child = spawn(
    process.execPath,
    ['--import', '@tapjs/typescript/import', 'test/fixtures/ptz-dome-sim.ts', '--port', pair.b, '--protocol', 'p', '--address', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const until = async (cond: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out; output so far: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => out.includes('ready\n'), 60_000);
  const line = new SerialLine({ path: pair.a, baudRate: 9600 });
  await line.open();
  t.teardown(() => line.close());
  await line.write(encode('p', 1, { type: 'preset-goto', preset: 12 }));
  await until(() => out.split('\n').length >= 3, 5000);
  const entry = JSON.parse(out.split('\n')[1]!) as Record<string, unknown>;
  t.match(entry, { protocol: 'p', address: 1, name: 'preset-goto', preset: 12, hex: 'a0 00 00 07 00 0c af 04' });
  child.kill('SIGTERM');
  t.equal(await exited, 0);

  const bad = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'test/fixtures/ptz-dome-sim.ts', '--protocol', 'x'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
  });
  let err = '';
  bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => bad.once('exit', (c) => r(c)));
  t.equal(code, 2);
  t.match(err, /--protocol must be d, p or auto, got x/);
});
