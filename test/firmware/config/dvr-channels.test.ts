import t from 'tap';
import { dvrChannelConfig, dvrChannelSchema } from '../../../firmware/config/dvr-channels.js';
import { SchemaError } from '../../../firmware/core/schema.js';

t.test('an analog channel from its few required settings gets recorder defaults', async (t) => {
  const c = dvrChannelSchema.parse({ id: 'gate', name: 'Gate', device: '/dev/video0' });
  t.match(c, { enabled: true, input: 0, standard: 'auto', main: { codec: 'h264', bitrateKbps: 2048, gop: 50 }, sub: { bitrateKbps: 384 }, motion: { enabled: true, sensitivity: 50, cells: null }, tamper: { enabled: true } });
  const cfg = dvrChannelConfig(c, { backend: 'v4l2-m2m', device: '/dev/video11' });
  t.same(cfg.encoder, { backend: 'v4l2-m2m', device: '/dev/video11' }, "the board's encoder");
  t.equal(cfg.motion.sensitivity, 50);
  t.same(dvrChannelConfig(c, { backend: 'x264', device: null }).encoder, { backend: 'x264' });
});

t.test('per-cell motion sensitivity: a mask of a few cells, the rest at the channel sensitivity', async (t) => {
  const c = dvrChannelSchema.parse({ id: 'yard', name: 'Yard', device: '/dev/video1', motion: { sensitivity: 70, cells: [0, 0, 100] } });
  const cells = dvrChannelConfig(c, { backend: 'x264', device: null }).motion.sensitivity as number[];
  t.equal(cells.length, 22 * 18, 'the whole 22 x 18 grid');
  t.same(cells.slice(0, 4), [0, 0, 100, 70]);
  t.ok(cells.slice(3).every((v) => v === 70));
});

t.test('bad analog channel settings are refused with the field named', async (t) => {
  t.throws(() => dvrChannelSchema.parse({ id: 'x', name: 'X', device: 'video0' }), SchemaError);
  t.throws(() => dvrChannelSchema.parse({ id: 'x', name: 'X', device: '/dev/video0; reboot' }), /device/);
  t.throws(() => dvrChannelSchema.parse({ id: 'x', name: 'X', device: '/dev/video0', standard: 'secam' }), /standard/);
  t.throws(() => dvrChannelSchema.parse({ id: 'x', name: 'X', device: '/dev/video0', motion: { cells: new Array(400).fill(1) } }), /cells/);
});
