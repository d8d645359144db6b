import t from 'tap';
import { dvrChannelConfig, dvrChannelSchema } from '../../../firmware/config/dvr-channels.js';
import { SchemaError } from '../../../firmware/core/schema.js';

t.test('an analog channel from its few required settings gets recorder defaults', async (t) => {
  const c = dvrChannelSchema.parse({ id: 'gate', name: 'Gate', device: '/dev/video0' });
  t.match(c, { enabled: true, input: 0, standard: 'auto', main: { codec: 'h264', resolution: 'D1', fps: null, bitrateKbps: 2048, gop: 50 }, sub: { resolution: 'CIF', fps: null, bitrateKbps: 384 }, motion: { enabled: true, sensitivity: 50, cells: null }, tamper: { enabled: true } });
  const cfg = dvrChannelConfig(c, { backend: 'v4l2-m2m', device: '/dev/video11' });
  t.same(cfg.encoder, { backend: 'v4l2-m2m', device: '/dev/video11' }, "the board's encoder");
  t.equal(cfg.motion.sensitivity, 50);
  t.same(dvrChannelConfig(c, { backend: 'x264', device: null }).encoder, { backend: 'x264' });
  t.same(cfg.image, { brightness: null, contrast: null, saturation: null, hue: null, sharpness: null }, "picture controls at the driver's defaults");
});

t.test('picture controls are percent of the card range: 0 to 100, or null', async (t) => {
  const base = { id: 'x', name: 'X', device: '/dev/video0' };
  const c = dvrChannelSchema.parse({ ...base, image: { brightness: 0, contrast: 100, hue: 50 } });
  t.same(dvrChannelConfig(c, { backend: 'x264', device: null }).image, { brightness: 0, contrast: 100, saturation: null, hue: 50, sharpness: null });
  t.throws(() => dvrChannelSchema.parse({ ...base, image: { brightness: 128 } }), /image\.brightness: 128 is outside/);
  t.throws(() => dvrChannelSchema.parse({ ...base, image: { saturation: -1 } }), /image\.saturation/);
  t.throws(() => dvrChannelSchema.parse({ ...base, image: { sharpness: 12.5 } }), /image\.sharpness/);
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

t.test('stream size and rate: per stream choices, the rate checked against the standard', async (t) => {
  const base = { id: 'x', name: 'X', device: '/dev/video0' };
  const c = dvrChannelSchema.parse({ ...base, standard: 'pal', main: { resolution: 'CIF', fps: 25 }, sub: { resolution: 'QCIF', fps: 6 } });
  const cfg = dvrChannelConfig(c, { backend: 'x264', device: null });
  t.match(cfg, { main: { resolution: 'CIF', fps: 25 }, sub: { resolution: 'QCIF', fps: 6 } }, 'handed to the channel as set');
  t.equal(dvrChannelSchema.parse({ ...base, standard: 'auto', main: { fps: 30 } }).main.fps, 30, 'auto: up to 30, the capture decides');
  t.equal(dvrChannelSchema.parse({ ...base, standard: 'ntsc', sub: { fps: 30 } }).sub!.fps, 30);
  t.same(issues({ ...base, standard: 'pal', main: { fps: 26 }, sub: { fps: 30 } }), [
    'main.fps: 26 is above the 25 frames per second of PAL',
    'sub.fps: 30 is above the 25 frames per second of PAL',
  ]);
  t.throws(() => dvrChannelSchema.parse({ ...base, main: { fps: 0 } }), /main\.fps: 0 is outside 1\.\.30/);
  t.throws(() => dvrChannelSchema.parse({ ...base, main: { resolution: 'QCIF' } }), /main\.resolution: expected one of D1, CIF/);
  t.throws(() => dvrChannelSchema.parse({ ...base, sub: { resolution: 'D1' } }), /sub\.resolution: expected one of CIF, QCIF/);
  t.match(issues({ ...base, standard: 'pal', main: { fps: 50, resolution: 'X' } }), [/^main\.resolution: expected one of D1, CIF/, /^main\.fps: 50 is outside 1\.\.30$/], 'the rule waits for the fields to be valid');
  const schema = dvrChannelSchema.toJsonSchema() as { properties: { main: { properties: Record<string, { enum?: string[]; default?: unknown }> } } };
  t.same(schema.properties.main.properties.resolution!.enum, ['D1', 'CIF'], 'the page offers only what the stream takes');
  t.equal(schema.properties.main.properties.fps!.default, null);
  t.same(dvrChannelSchema.default(c).fallback!(), c, 'a default channel is the channel');
  const optional = dvrChannelSchema.optional();
  t.equal(optional.parse(undefined), undefined);
  t.throws(() => optional.parse({ ...base, standard: 'pal', sub: { fps: 30 } }), /sub\.fps: 30 is above/);
  t.match(dvrChannelSchema.describe('a camera').toJsonSchema(), { description: 'a camera' });
  t.throws(() => dvrChannelSchema.describe('a camera').parse({ ...base, standard: 'pal', sub: { fps: 30 } }), /sub\.fps: 30 is above/);
});

function issues(value: unknown): string[] {
  try {
    dvrChannelSchema.parse(value);
  } catch (e) {
    if (e instanceof SchemaError) return e.issues;
    throw e;
  }
  return [];
}
