import t from 'tap';
import { SchemaError, array, boolean, int, nullable, object, oneOf, record, string } from '../../../firmware/core/schema.js';

const cam = object({
  name: string({ min: 1, max: 8 }),
  port: int({ min: 1, max: 65535 }).default(554),
  kind: oneOf(['analog', 'ip'] as const),
  enabled: boolean().default(true),
  user: nullable(string()).default(null),
  tags: array(string()).default([]),
  extra: object({ a: int().default(1) }),
});

t.test('fills defaults, including a nested object left out', async (t) => {
  t.same(cam.parse({ name: 'front', kind: 'ip' }), { name: 'front', port: 554, kind: 'ip', enabled: true, user: null, tags: [], extra: { a: 1 } });
});

t.test('errors name the exact path and every problem at once', async (t) => {
  const err = t.throws(() => cam.parse({ name: '', port: 70000, kind: 'usb', enabled: 'yes', tags: [1], bogus: 1 })) as SchemaError;
  t.type(err, SchemaError);
  t.match(err.issues, [
    /bogus: unknown setting/,
    /name: must be at least 1/,
    /port: 70000 is outside 1..65535/,
    /kind: expected one of analog, ip, got "usb"/,
    /enabled: expected true or false/,
    /tags\[0\]: expected a string/,
  ]);
});

t.test('required fields and wrong container types', async (t) => {
  t.throws(() => cam.parse({ kind: 'ip' }), /name: required/);
  t.throws(() => cam.parse([]), /expected an object, got an array/);
  t.throws(() => array(int(), { max: 2 }).parse([1, 2, 3]), /at most 2 items/);
  t.throws(() => array(int(), { min: 2 }).parse([1]), /at least 2 items/);
  t.same(array(int(), { min: 2, max: 2 }).toJsonSchema(), { type: 'array', items: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }, minItems: 2, maxItems: 2 });
  t.throws(() => record(int()).parse({ 'bad key!': 1 }), /key "bad key!" is not allowed/);
  t.throws(() => int().parse(1.5), /expected an integer/);
});

t.test('defaults are copies: changing one result does not change the next', async (t) => {
  const a = cam.parse({ name: 'x', kind: 'ip' });
  a.tags.push('changed');
  t.same(cam.parse({ name: 'x', kind: 'ip' }).tags, []);
});

t.test('JSON Schema export lists required fields and defaults', async (t) => {
  const js = cam.toJsonSchema() as { required: string[]; properties: Record<string, { default?: unknown }> };
  t.same(js.required, ['name', 'kind', 'extra']);
  t.equal(js.properties.port!.default, 554);
});
