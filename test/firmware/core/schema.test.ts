import t from 'tap';
import { SchemaError, array, boolean, int, json, literal, nullable, object, oneOf, record, refine, string, tagged } from '../../../firmware/core/schema.js';

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

t.test('built-in member names are unknown settings, not known ones', async (t) => {
  const s = object({ a: int().default(1) });
  for (const k of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
    const input = JSON.parse(`{"${k}": 1}`) as unknown;
    t.throws(() => s.parse(input), new RegExp(`^${k}: unknown setting$`), `"${k}" is reported`);
  }
  t.throws(() => object({ inner: s }).parse(JSON.parse('{"inner": {"constructor": {}}}')), /inner\.constructor: unknown setting/, 'nested too');
});

t.test('a field not given is not read from the prototype chain', async (t) => {
  const s = object({ a: int().default(1) });
  const input = Object.create({ a: 'inherited' }) as unknown;
  t.same(s.parse(input), { a: 1 }, 'the inherited value is neither used nor checked');
  const tag = tagged('type', { x: object({ type: literal('x') }) });
  t.throws(() => tag.parse(Object.create({ type: 'x' })), /type: expected one of x, got nothing/);
});

t.test('a "__proto__" key in JSON never changes a prototype', async (t) => {
  const evil = '{"__proto__": {"polluted": 1}}';
  const r = record(json());
  t.throws(() => r.parse(JSON.parse(evil)), /key "__proto__" is not allowed/);
  const issues: string[] = [];
  const out = r.check(JSON.parse('{"ok": 2, "__proto__": {"polluted": 1}}'), 'm', issues);
  t.equal(Object.getPrototypeOf(out), Object.prototype, 'the record keeps a plain prototype');
  t.same(Object.keys(out), ['ok']);
  t.equal((out as Record<string, unknown>).polluted, undefined);
  const passed = json().parse(JSON.parse(`{"x": ${evil}}`)) as { x: Record<string, unknown> };
  t.equal(Object.getPrototypeOf(passed.x), Object.prototype, 'json() copies it as a plain key');
  t.equal(passed.x.polluted, undefined);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

t.test('refine: the rule runs on a value its inner schema accepted, and keeps the inner defaults', async (t) => {
  const even = refine(int(), (v, path, issues) => void (v % 2 === 0 || issues.push(`${path}: ${v} is odd`)));
  t.equal(even.parse(4), 4);
  t.throws(() => even.parse(3), /: 3 is odd/);
  t.throws(() => even.parse('x'), /expected an integer/);
  t.same(object({ n: even.default(2) }).parse({}), { n: 2 });
  t.throws(() => object({ n: even.default(2) }).parse({ n: 5 }), /n: 5 is odd/);
});
