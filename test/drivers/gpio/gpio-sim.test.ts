// drivers/gpio and the AlarmService against the real kernel: gpio-sim in the
// QEMU virtual board. The guest (fixtures/gpio-sim-guest.mjs) configures a
// gpio-sim chip of its own through configfs with named lines, flips the
// simulator's `pull` attributes, reads its `value` attributes, and prints JSON
// checked here. Runs the compiled tree (dist/, or GPIO_DIST).
import t from 'tap';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInVboard, vboardUnavailable } from '../../../scripts/vboard/vboard.js';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
const dist = resolve(root, process.env.GPIO_DIST ?? 'dist');

/** Why the compiled tree cannot be used (missing, or older than a source file), or null. */
function distProblem(): string | null {
  for (const dir of ['drivers/gpio', 'firmware/alarms']) {
    const built = join(dist, dir);
    if (!existsSync(join(built, 'index.js'))) return `no compiled ${dir} in ${built} (npx tsc -p tsconfig.json builds it)`;
    for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith('.ts'))) {
      const js = join(built, f.replace(/\.ts$/, '.js'));
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(root, dir, f)).mtimeMs) {
        return `compiled ${dir} is older than ${dir}/${f} (npx tsc -p tsconfig.json rebuilds it)`;
      }
    }
  }
  return null;
}

interface Ev {
  timestampNs: string;
  edge: 'rising' | 'falling';
  offset: number;
  seqno: number;
  lineSeqno: number;
}
interface Line {
  offset: number;
  name: string;
  consumer: string;
  used: boolean;
  direction: string;
  edge: string;
  bias: string;
  debounceUs: number;
}

const skip = vboardUnavailable() ?? distProblem();
if (skip) t.comment(`skipped: ${skip}`);

t.test('gpio-sim in the virtual board', { skip: skip ?? false, timeout: 600_000 }, async (t) => {
  const run = await runInVboard('test/drivers/gpio/fixtures/gpio-sim-guest.sh', { env: { GPIO_DIST: dist }, timeoutMs: 400_000 });
  t.equal(run.code, 0, 'the guest script ran', { stderr: run.stderr.slice(-3000) });
  // One JSON line of results, then one of the chip-removal check (run last: it unplugs a chip).
  const lines = run.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  const r = JSON.parse(lines.find((l) => l.includes('"chip"')) ?? '{"errors":["no result line"]}');
  const gone = JSON.parse(lines.find((l) => l.includes('"removal"')) ?? '{"errors":["no removal line"]}');
  t.same(r.errors, [], 'no step failed in the guest');

  t.test('chip and line info of the configfs chip', async (t) => {
    t.match(r.info.info, { name: r.chip.chipName, label: 'gpiotest-bank', lines: 6 });
    t.same(
      r.info.lines.map((l: Line) => l.name),
      ['door', 'pir', 'siren', 'lamp', 'alarm-in', 'alarm-relay'],
      'line names as written to configfs',
    );
    t.ok(r.info.lines.every((l: Line) => !l.used && l.consumer === ''), 'nothing requested yet');
    t.match(r.find, { chip: `/dev/${r.chip.chipName}`, offset: 1 }, 'findLine("pir") across every chip');
    t.ok(r.find.chips.length >= 2, "the boot's vboard chip and ours");
  });

  t.test('edges from flipping the simulator pull: order, timestamps, sequence numbers', async (t) => {
    const e = r.edges;
    t.same(e.errors, []);
    t.same(e.events.map((x: Ev) => x.edge), ['rising', 'falling', 'rising', 'falling', 'rising', 'falling']);
    t.same(e.events.map((x: Ev) => x.seqno), [1, 2, 3, 4, 5, 6], 'request sequence numbers');
    t.same(e.events.map((x: Ev) => x.lineSeqno), [1, 2, 3, 4, 5, 6], 'line sequence numbers');
    const ts = e.events.map((x: Ev) => BigInt(x.timestampNs));
    t.ok(ts.every((x: bigint, i: number) => i === 0 || x > ts[i - 1]), 'timestamps increase');
    t.match(e.line, { used: true, consumer: 'gpio-test', direction: 'input', edge: 'both', bias: 'pull-down' }, 'line info shows the request');
    t.equal(e.value, false, 'GET_VALUES after the last falling edge');
  });

  t.test('a non-blocking read of queued events', async (t) => {
    t.equal(r.readEvents.empty, 0, 'nothing queued: an empty list at once');
    t.match(r.readEvents.got, [{ edge: 'rising', offset: 1, seqno: 1 }]);
  });

  t.test('kernel debounce swallows contact bounce', async (t) => {
    t.equal(r.debounce.debounceUs, 100_000, 'line info reports the period');
    t.same(r.debounce.events.map((x: Ev) => x.edge), ['rising'], 'five changes within the period: one settled edge');
    t.equal(r.debounce.value, true);
  });

  t.test("an output's value appears in the simulator's value attribute", async (t) => {
    const o = r.outputs;
    t.same(o.initial, ['0', '0'], 'siren starts off; lamp starts logically on, active-low: physically 0');
    t.same(o.afterSet, ['1', '0']);
    t.same(o.afterBoth, ['0', '1'], 'lamp logically off, active-low: physically 1');
    t.same(o.readBack, [[2, false], [3, false]]);
    t.match(o, { direction: 'output', consumer: 'gpio-out' });
  });

  t.test('a line already requested: EBUSY, named', async (t) => {
    t.equal(r.busy.code, 'EBUSY');
    t.match(r.busy.message, /GPIO_V2_GET_LINE_IOCTL/);
  });

  t.test('AlarmService: pull an input, the alarm is on the bus, the linkage rule fires, the relay line changes', async (t) => {
    const a = r.alarms;
    t.match(a.linkage[0], { rule: 'door', phase: 'start', results: [{ action: 'relay', target: 'alarm-relay', ok: true }] }, 'the rule fired and switched the relay');
    t.match(a.inputsAtStart, [{ input: 'alarm-in', name: 'Back door', active: false, armed: true, alarm: false, fault: null }]);
    t.equal(a.relayBefore, '0');
    t.equal(a.relayDuringAlarm, '1', 'relay line high after the alarm');
    t.match(a.relaysDuringAlarm, [{ relay: 'alarm-relay', mode: 'momentary', on: true }]);
    t.equal(a.relayWhileDisarmed, '0', 'the momentary relay dropped by itself');
    t.ok(a.relayOnForMs >= 1400, `momentary pulse held ${a.relayOnForMs} ms (1500 asked)`);
    t.comment(`guest: edge -> alarm ${a.alarmAfterMs} ms, -> relay ${a.relayAfterMs} ms (TCG, loaded host)`);
    const names = a.events.map((e: { name: string }) => e.name);
    t.same(names.slice(0, 6), ['alarmInput', 'alarm', 'relayState', 'relayState', 'alarmInput', 'alarm']);
    t.match(a.events[1], { source: 'gpio', input: 'alarm-in', active: true });
    t.match(a.events[5], { input: 'alarm-in', active: false });
    t.same(a.whileDisarmed, ['alarmInput'], 'disarmed: the state is reported, no alarm raised');
    t.same([a.buzzerOn, a.buzzerOff], ['1', '0'], 'buzzer line follows');
    t.notOk(names.includes('alarmFault'));
  });

  t.test("the vboard board profile's lines: inputs idle inactive, in1 raises its alarm, relay1 follows", async (t) => {
    const b = r.board;
    t.same(b.inputs.map((i: { input: string }) => i.input), ['in1', 'in2', 'in3', 'in4']);
    t.ok(b.inputs.every((i: { active: boolean; fault: unknown }) => i.active === false && i.fault === null), 'nobody drives them: the pull-up holds them inactive');
    t.same(b.relays, ['relay1', 'relay2']);
    t.same(b.events, [{ name: 'alarm', source: 'gpio', input: 'in1', active: true }], 'one alarm, from in1, and no fault');
    t.equal(b.relay1, '1');
    t.equal(b.relay1AfterStop, '0', 'stop leaves the relay off');
  });

  t.test('the chip goes away under the AlarmService: a clear fault event, the service stays up', async (t) => {
    t.same(gone.errors, []);
    const g = gone.removal;
    t.equal(g.faultsBefore, 0);
    t.notOk(g.wait, 'the fault came');
    t.match(g.faults[0], { source: 'gpio', line: 'gone-in', error: /the device is gone/ });
    t.ok(g.relayError, `switching its relay fails: ${g.relayError}`);
    t.match(g.inputs, [{ input: 'gone-in', fault: /the device is gone/, active: null }]);
    t.equal(g.stopped, true, 'stop() completes');
  });
});
