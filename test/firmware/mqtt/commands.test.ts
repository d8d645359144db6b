import t from 'tap';
import { CommandError, CommandRegistry, parseCommand, routeCommand } from '../../../firmware/mqtt/commands.js';
import { EntityRegistry } from '../../../firmware/mqtt/entities.js';
import { slug } from '../../../firmware/mqtt/topics.js';

const p = (s: string | Buffer) => (Buffer.isBuffer(s) ? s : Buffer.from(s));

t.test('command topics', async (t) => {
  t.same(routeCommand('relay/r1/set'), { name: 'relay', target: 'r1' });
  t.same(routeCommand('ptz/ch2/preset/set'), { name: 'ptzPreset', target: 'ch2' });
  t.same(routeCommand('armed/set'), { name: 'arm', target: '' });
  t.same(routeCommand('channel/ch1/recording/set'), { name: 'recording', target: 'ch1' });
  for (const bad of ['relay/set', 'relay/r1/x/set', 'ptz/ch1/set', 'channel/ch1/motion/set', '']) t.equal(routeCommand(bad), null, bad);
});

t.test('payload forms Home Assistant and scripts send', async (t) => {
  t.same(parseCommand('relay', 'r1', p(' on\n')), { args: { relay: 'r1', on: true } });
  t.same(parseCommand('relay', 'r1', p('"OFF"')), { args: { relay: 'r1', on: false } });
  t.same(parseCommand('recording', 'ch1', p('{"state":"ON","id":"a"}')), { args: { channel: 'ch1', on: true }, id: 'a' });
  t.same(parseCommand('arm', '', p('disarm')), { args: { armed: false } });
  t.same(parseCommand('ptzPreset', 'ch1', p('12')), { args: { channel: 'ch1', preset: 12 } });
  t.same(parseCommand('ptzPreset', 'ch1', p('{"preset":255,"id":"x"}')), { args: { channel: 'ch1', preset: 255 }, id: 'x' });
});

t.test('everything else is a CommandError with a reason', async (t) => {
  const cases: [Parameters<typeof parseCommand>[0], string | Buffer, RegExp][] = [
    ['relay', 'constructor', /expected ON or OFF/],
    ['relay', '__PROTO__', /expected ON or OFF/],
    ['relay', 'null', /expected ON or OFF/],
    ['relay', '{"state":"ON","id":""}', /id: must be at least 1 characters/],
    ['relay', '{"state":"ON","id":7}', /id: expected a string/],
    ['relay', '{}', /state: required/],
    ['arm', '"MAYBE"', /expected ON or OFF or ARM or DISARM/],
    ['ptzPreset', '0', /1\.\.255/],
    ['ptzPreset', '1e2', /1\.\.255/],
    ['ptzPreset', '{"preset":1.5}', /preset: expected an integer/],
    ['ptzPreset', '{"preset":300}', /300 is outside 1\.\.255/],
    ['relay', Buffer.alloc(4097, 0x20), /payload too large \(4097 bytes/],
  ];
  for (const [name, payload, want] of cases) {
    t.throws(() => parseCommand(name, 'x', p(payload)), CommandError);
    t.throws(() => parseCommand(name, 'x', p(payload)), { message: want }, `${name} ${String(payload).slice(0, 30)}`);
  }
});

t.test('registries: a later registration replaces, and a stale unregister does nothing', async (t) => {
  const c = new CommandRegistry();
  const first = () => 1;
  const second = () => 2;
  const off1 = c.register('arm', first);
  c.register('arm', second);
  off1();
  t.equal(c.get('arm'), second);
  const e = new EntityRegistry();
  const seen: (string | null)[] = [];
  e.onChange((key, spec) => seen.push(spec ? key : null));
  const offA = e.register({ kind: 'relay', relay: 'R 1' });
  e.register({ kind: 'relay', relay: 'R 1', name: 'Siren' });
  offA();
  t.equal(e.all().length, 1, 'the replacement stays');
  t.same(seen, ['relay_r_1', 'relay_r_1']);
  t.throws(() => e.register({ kind: 'ptzPreset', channel: 'c', preset: 0 }), RangeError);
});

t.test('slugs are safe topic segments', async (t) => {
  t.equal(slug('Shop Front'), 'shop_front');
  t.equal(slug('Café #1/+'), 'cafe_1');
  t.equal(slug('***'), 'dvr');
  t.equal(slug('x'.repeat(100)).length, 64);
});
