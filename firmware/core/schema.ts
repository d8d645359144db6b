/**
 * A small typed validator for config, board profiles and API bodies.
 *
 * Why not a JSON-Schema library: the firmware needs the TypeScript type of a
 * validated value (`Infer<typeof s>`), defaults filled in, errors that name the
 * exact path ("channels[2].name: expected a string"), and no dependency to ship
 * on a small board. `toJsonSchema()` still gives standard JSON Schema for the
 * web API documentation.
 */

export class SchemaError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('; '));
    this.name = 'SchemaError';
  }
}

type JsonSchema = Record<string, unknown>;

export interface Schema<T> {
  /** Validates and returns a copy with defaults applied, or throws SchemaError. */
  parse(value: unknown): T;
  /** Internal: collects issues under a path instead of throwing. */
  check(value: unknown, path: string, issues: string[]): T;
  /** The value used when the field is absent, if any. */
  readonly fallback?: () => T;
  /** Objects may be omitted entirely when all their fields have defaults. */
  readonly isObject?: boolean;
  toJsonSchema(): JsonSchema;
  /** Same schema, but a missing value becomes `value`. */
  default(value: T): Schema<T>;
  optional(): Schema<T | undefined>;
  describe(text: string): Schema<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  // JSON-quoted: a newline or control character in a refused value must not split the message (or a log line) in two.
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40)).slice(0, -1)}…"` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function label(path: string): string {
  return path === '' ? '(root)' : path;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

function make<T>(
  check: (value: unknown, path: string, issues: string[]) => T,
  json: () => JsonSchema,
  fallback?: () => T,
  isObject = false,
): Schema<T> {
  const s: Schema<T> = {
    check,
    fallback,
    isObject,
    parse(value) {
      const issues: string[] = [];
      const out = check(value, '', issues);
      if (issues.length > 0) throw new SchemaError(issues);
      return out;
    },
    toJsonSchema: json,
    default(value: T) {
      const v = clone(value);
      return make(check, () => ({ ...json(), default: v }), () => clone(v), isObject);
    },
    optional() {
      return make<T | undefined>(
        (value, path, issues) => (value === undefined ? undefined : check(value, path, issues)),
        json,
        () => undefined,
      );
    },
    describe(text: string) {
      return make(check, () => ({ ...json(), description: text }), fallback, isObject);
    },
  };
  return s;
}

export function string(opts: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
  const { min = 0, max = 4096, pattern } = opts;
  return make(
    (v, path, issues) => {
      if (typeof v !== 'string') {
        issues.push(`${label(path)}: expected a string, got ${describeValue(v)}`);
        return '';
      }
      if (v.length < min) issues.push(`${label(path)}: must be at least ${min} characters`);
      if (v.length > max) issues.push(`${label(path)}: must be at most ${max} characters`);
      if (pattern && !pattern.test(v)) issues.push(`${label(path)}: ${describeValue(v)} does not match ${pattern}`);
      return v;
    },
    () => ({ type: 'string', minLength: min, maxLength: max, ...(pattern ? { pattern: pattern.source } : {}) }),
  );
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return make(
    (v, path, issues) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        issues.push(`${label(path)}: expected an integer, got ${describeValue(v)}`);
        return 0;
      }
      if (v < min || v > max) issues.push(`${label(path)}: ${v} is outside ${min}..${max}`);
      return v;
    },
    () => ({ type: 'integer', minimum: min, maximum: max }),
  );
}

export function number(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = -Infinity, max = Infinity } = opts;
  return make(
    (v, path, issues) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        issues.push(`${label(path)}: expected a number, got ${describeValue(v)}`);
        return 0;
      }
      if (v < min || v > max) issues.push(`${label(path)}: ${v} is outside ${min}..${max}`);
      return v;
    },
    () => ({ type: 'number', ...(Number.isFinite(min) ? { minimum: min } : {}), ...(Number.isFinite(max) ? { maximum: max } : {}) }),
  );
}

export function boolean(): Schema<boolean> {
  return make(
    (v, path, issues) => {
      if (typeof v !== 'boolean') issues.push(`${label(path)}: expected true or false, got ${describeValue(v)}`);
      return v === true;
    },
    () => ({ type: 'boolean' }),
  );
}

export function literal<const T extends string | number | boolean>(value: T): Schema<T> {
  return make(
    (v, path, issues) => {
      if (v !== value) issues.push(`${label(path)}: expected ${JSON.stringify(value)}, got ${describeValue(v)}`);
      return value;
    },
    () => ({ const: value }),
  );
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  return make(
    (v, path, issues) => {
      if (typeof v !== 'string' || !values.includes(v)) {
        issues.push(`${label(path)}: expected one of ${values.join(', ')}, got ${describeValue(v)}`);
        return values[0] as T[number];
      }
      return v as T[number];
    },
    () => ({ type: 'string', enum: [...values] }),
  );
}

/**
 * One of several object shapes told apart by the string field `key` (a
 * tagged union: `{ type: 'relay', ... } | { type: 'webhook', ... }`). Each
 * variant's schema should include `key` as a literal so the inferred type
 * narrows on it.
 */
export function tagged<const M extends Record<string, Schema<unknown>>>(key: string, variants: M): Schema<Infer<M[keyof M]>> {
  const names = Object.keys(variants);
  return make(
    (v, path, issues) => {
      const tag = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
      if (typeof tag !== 'string' || !Object.hasOwn(variants, tag)) {
        const at = path ? `${path}.${key}` : key;
        issues.push(`${at}: expected one of ${names.join(', ')}, got ${tag === undefined ? 'nothing' : describeValue(tag)}`);
        return {} as Infer<M[keyof M]>;
      }
      return variants[tag]!.check(v, path, issues) as Infer<M[keyof M]>;
    },
    () => ({ oneOf: names.map((n) => variants[n]!.toJsonSchema()) }),
  );
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return make<T | null>(
    (v, path, issues) => (v === null ? null : inner.check(v, path, issues)),
    () => ({ anyOf: [inner.toJsonSchema(), { type: 'null' }] }),
  );
}

export function array<T>(item: Schema<T>, opts: { min?: number; max?: number } = {}): Schema<T[]> {
  const { min = 0, max = 10_000 } = opts;
  return make(
    (v, path, issues) => {
      if (!Array.isArray(v)) {
        issues.push(`${label(path)}: expected an array, got ${describeValue(v)}`);
        return [];
      }
      if (v.length < min) issues.push(`${label(path)}: at least ${min} items`);
      if (v.length > max) issues.push(`${label(path)}: at most ${max} items`);
      return v.map((x, i) => item.check(x, `${path}[${i}]`, issues));
    },
    () => ({ type: 'array', items: item.toJsonSchema(), ...(min > 0 ? { minItems: min } : {}), maxItems: max }),
  );
}

/** A map from arbitrary keys (validated by `key`) to values. */
export function record<T>(value: Schema<T>, key: RegExp = /^[A-Za-z0-9_.-]{1,64}$/): Schema<Record<string, T>> {
  return make(
    (v, path, issues) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        issues.push(`${label(path)}: expected an object, got ${describeValue(v)}`);
        return {};
      }
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) {
        // JSON.parse makes "__proto__" an own key; assigning it would swap out's prototype instead of adding an entry.
        if (!key.test(k) || k === '__proto__') {
          issues.push(`${label(path)}: key "${k.slice(0, 64)}" is not allowed`);
          continue;
        }
        out[k] = value.check(x, path ? `${path}.${k}` : k, issues);
      }
      return out;
    },
    () => ({ type: 'object', additionalProperties: value.toJsonSchema() }),
  );
}

/**
 * `inner`, then `rule` on its value when it had no issue of its own: checks
 * across fields (a stream's fps against the channel's standard) that one
 * field's schema cannot see, or meaning a pattern cannot say (a time zone
 * Intl knows, a path without ".."). The JSON Schema is inner's.
 */
export function refine<T>(inner: Schema<T>, rule: (value: T, path: string, issues: string[]) => void): Schema<T> {
  const check = (value: unknown, path: string, issues: string[]): T => {
    const before = issues.length;
    const out = inner.check(value, path, issues);
    if (issues.length === before) rule(out, path, issues);
    return out;
  };
  return {
    check,
    ...(inner.fallback ? { fallback: inner.fallback } : {}),
    ...(inner.isObject ? { isObject: inner.isObject } : {}),
    parse(value) {
      const issues: string[] = [];
      const out = check(value, '', issues);
      if (issues.length > 0) throw new SchemaError(issues);
      return out;
    },
    toJsonSchema: () => inner.toJsonSchema(),
    default: (value) => refine(inner.default(value), rule),
    optional: () => refine<T | undefined>(inner.optional(), (v, p, i) => v !== undefined && rule(v, p, i)),
    describe: (text) => refine(inner.describe(text), rule),
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] };
/** Fields whose schema allows undefined (`.optional()`) become optional properties. */
type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/**
 * An object with known fields. Unknown fields are an error: a misspelt
 * setting silently ignored is worse than a refused one.
 */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const check = (v: unknown, path: string, issues: string[]): ObjectOf<S> => {
    if (v === undefined) v = {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      issues.push(`${label(path)}: expected an object, got ${describeValue(v)}`);
      return {} as ObjectOf<S>;
    }
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // Own properties only: `k in shape` would take "constructor" or "toString" for known settings and drop them silently.
    for (const k of Object.keys(src)) {
      if (!Object.hasOwn(shape, k)) issues.push(`${label(path ? `${path}.${k}` : k)}: unknown setting`);
    }
    for (const [k, field] of Object.entries(shape)) {
      const p = path ? `${path}.${k}` : k;
      const given = Object.hasOwn(src, k) ? src[k] : undefined;
      if (given === undefined) {
        if (field.fallback) {
          const d = field.fallback();
          if (d !== undefined) out[k] = d;
          continue;
        }
        // Nested objects default to their own defaults; anything else is required.
        if (field.isObject) {
          out[k] = field.check(undefined, p, issues);
          continue;
        }
        issues.push(`${p}: required`);
        continue;
      }
      out[k] = field.check(given, p, issues);
    }
    return out as ObjectOf<S>;
  };
  return make(check, () => {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [k, field] of Object.entries(shape)) {
      properties[k] = field.toJsonSchema();
      if (!field.fallback) required.push(k);
    }
    return { type: 'object', properties, required, additionalProperties: false };
  }, undefined, true);
}

/** Any JSON value; used for opaque pass-through fields checked elsewhere. */
export function json(): Schema<unknown> {
  return make(
    (v, path, issues) => {
      try {
        JSON.stringify(v);
      } catch {
        issues.push(`${label(path)}: not representable as JSON`);
      }
      return clone(v);
    },
    () => ({}),
  );
}
