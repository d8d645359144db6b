// Inputs drawn from a piece of the config's JSON Schema, for the linkage
// rules' form: a tagged union (`{ type: ... }`) becomes a type select whose
// fields follow the chosen type, a list of objects an add/remove list, a
// list of choices a row of ticks, enums selects, numbers number inputs with
// the schema's limits. Fields named channel, input, output, dome or tour
// offer what the config has. Nothing here knows a trigger or action type, so
// a type added to the schema shows up without page code; what it cannot
// draw is JSON in a textarea, checked by the box like the rest. Each input's
// name is its dotted path in the rule (`actions.1.seconds`).
import { h } from './ui.js';

export interface Schema {
  type?: string;
  const?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  default?: unknown;
  description?: string;
}

export interface Option {
  value: string;
  label: string;
}
/** Names the config knows, by the key of the field that refers to one. Only channels are a closed list: inputs and outputs may be board lines or ONVIF inputs not in the config. */
export type Choices = Record<'channel' | 'input' | 'output' | 'dome' | 'tour', Option[]>;

/** An input and how to read it back; undefined leaves the field out (the box fills its default or says it is required). JSON that does not parse throws. */
export interface Widget {
  el: HTMLElement;
  read(): unknown;
}

const TAG = 'type';
let lists = 0;

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
/** `videoLoss` → "video loss", `preSec` → "pre (s)": the schema's keys as an installer reads them. */
const words = (key: string) => key.replace(/Sec$/, ' (s)').replace(/Ms$/, ' (ms)').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
/** What null means for a field, from its description ("null: always" → "always"). */
const nullMeaning = (s: Schema) => /null: ([^;]+)/.exec(s.description ?? '')?.[1]?.trim();

/** The variants of a tagged union by tag, or null when `s` is not one. */
export function variants(s: Schema): Map<string, Schema> | null {
  const out = new Map<string, Schema>();
  for (const v of s.oneOf ?? []) {
    const tag = v.properties?.[TAG]?.const;
    if (typeof tag === 'string') out.set(tag, v);
  }
  return out.size > 0 && out.size === s.oneOf!.length ? out : null;
}

/** What a new value starts as: the schema's default, else an empty value the box will ask to be filled. */
export function template(s: Schema): unknown {
  if (s.default !== undefined) return structuredClone(s.default);
  const tagged = variants(s);
  if (tagged) return template([...tagged.values()][0]!);
  if (s.const !== undefined) return s.const;
  if (s.anyOf) return s.anyOf.some((x) => x.type === 'null') ? null : template(s.anyOf[0]!);
  if (s.properties) return Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, template(p)]));
  if (s.enum) return s.enum[0];
  const empty: Record<string, unknown> = { string: '', integer: s.minimum ?? 0, number: s.minimum ?? 0, boolean: false, array: [] };
  return empty[s.type ?? ''] ?? null;
}

function unwrap(s: Schema): { schema: Schema; nullable: boolean } {
  const inner = s.anyOf?.find((x) => x.type !== 'null');
  return inner && s.anyOf!.length === 2 ? { schema: { ...inner, description: s.description ?? inner.description }, nullable: true } : { schema: s, nullable: false };
}

/** The closed list a value is picked from: an enum, or the config's channels (with "*" where the schema allows it). */
function optionsOf(key: string, s: Schema, c: Choices): Option[] | null {
  if (s.enum) return s.enum.map((v) => ({ value: v, label: words(v) }));
  if (key !== 'channel' && key !== 'channels') return null;
  return [...(s.pattern?.includes('\\*') ? [{ value: '*', label: 'every channel' }] : []), ...c.channel];
}

export function button(label: string, name: string, act: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', name }, label);
  b.addEventListener('click', act);
  return b;
}

/** The input of a string, number or boolean, or null for anything else. */
function scalar(key: string, path: string, s: Schema, nullable: boolean, value: unknown, c: Choices): { input: HTMLElement; read: () => unknown } | null {
  const text = value === null || value === undefined ? '' : String(value);
  if (s.type === 'boolean') {
    const box = h('input', { type: 'checkbox', name: path });
    box.checked = value === true;
    return { input: box, read: () => box.checked };
  }
  if (s.type === 'integer' || s.type === 'number') {
    const num = h('input', { type: 'number', name: path, step: s.type === 'integer' ? '1' : 'any' });
    if (s.minimum !== undefined) num.min = String(s.minimum);
    if (s.maximum !== undefined) num.max = String(s.maximum);
    num.placeholder = nullable ? (nullMeaning(s) ?? 'none') : '';
    num.value = text;
    return { input: num, read: () => (num.value === '' ? (nullable ? null : undefined) : Number(num.value)) };
  }
  if (s.type !== 'string') return null;
  const options = optionsOf(key, s, c);
  if (options) {
    const sel = h('select', { name: path });
    // A value the list lacks (a new rule's empty one, a channel since removed) stays shown, so saving as is keeps it or gets the box's word on it.
    if (!options.some((o) => o.value === text)) sel.append(h('option', { value: text }, text === '' ? '(pick one)' : text));
    for (const o of options) sel.append(h('option', { value: o.value }, o.label));
    sel.value = text;
    return { input: sel, read: () => sel.value };
  }
  const input = h('input', { type: 'text', name: path, autocomplete: 'off' });
  input.value = text;
  const wrap = h('span', {}, input);
  const known = c[key as keyof Choices];
  if (known?.length) {
    const id = `linkage-list-${++lists}`;
    input.setAttribute('list', id);
    wrap.append(h('datalist', { id }, ...known.map((o) => h('option', { value: o.value }, o.label))));
  }
  return { input: wrap, read: () => (input.value === '' && nullable ? null : input.value) };
}

/** Ticks for a list of values picked from `options`, in the options' order. */
function ticks(path: string, options: Option[], value: unknown[]): Widget {
  const all = [...options, ...value.filter((v) => !options.some((o) => o.value === v)).map((v) => ({ value: String(v), label: String(v) }))];
  const boxes = all.map((o) => {
    const box = h('input', { type: 'checkbox', name: path, value: o.value });
    box.checked = value.includes(o.value);
    return box;
  });
  const el = h('div', { class: 'checks' }, ...boxes.map((b, i) => h('label', { class: 'inline' }, b, all[i]!.label)));
  return { el, read: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/** Each property of an object, but `skip`, as its own widget. */
export function objectFields(path: string, s: Schema, value: unknown, c: Choices, skip: string[] = []): Widget {
  const v = (value ?? {}) as Record<string, unknown>;
  const parts = Object.entries(s.properties ?? {})
    .filter(([k]) => !skip.includes(k))
    .map(([k, p]) => [k, widget(k, join(path, k), p, v[k], c)] as const);
  const el = h('div', { class: 'fields' }, ...parts.map(([, w]) => w.el));
  const read = () => Object.fromEntries(parts.map(([k, w]) => [k, w.read()]).filter(([, x]) => x !== undefined));
  return { el, read };
}

/** A type select and the chosen type's fields; changing the type keeps the fields both types require (a channel, an output). */
function tagged(path: string, all: Map<string, Schema>, value: unknown, c: Choices): Widget {
  const sel = h('select', { name: join(path, TAG) });
  for (const [t, v] of all) sel.append(h('option', { value: t }, v.description ?? words(t)));
  const tag = (value as Record<string, unknown> | null)?.[TAG];
  sel.value = typeof tag === 'string' && all.has(tag) ? tag : all.keys().next().value!;
  const el = h('div', { class: 'tagged' });
  let fields = objectFields(path, all.get(sel.value)!, value, c, [TAG]);
  el.append(h('label', { class: 'setting' }, h('span', { class: 'key' }, 'type'), sel), fields.el);
  sel.addEventListener('change', () => {
    const next = all.get(sel.value)!;
    const fresh = template(next) as Record<string, unknown>;
    let before: Record<string, unknown> = {};
    try {
      before = fields.read() as Record<string, unknown>;
    } catch {
      // A field's JSON that does not parse is not carried over.
    }
    for (const [k, p] of Object.entries(next.properties ?? {})) if (p.default === undefined && k !== TAG && before[k] !== undefined) fresh[k] = before[k];
    const drawn = objectFields(path, next, fresh, c, [TAG]);
    fields.el.replaceWith(drawn.el);
    fields = drawn;
  });
  return { el, read: () => ({ [TAG]: sel.value, ...(fields.read() as object) }) };
}

/** Items added and removed in place; names are renumbered so they stay each item's path. */
function list(key: string, path: string, item: Schema, value: unknown[], c: Choices): Widget {
  const one = key.endsWith('s') ? key.slice(0, -1) : key;
  const items: Widget[] = [];
  const el = h('div', { class: 'items' });
  const prefix = new RegExp(`^${join(path, '').replace(/\./g, '\\.')}\\d+`);
  const renumber = () =>
    items.forEach((w, i) => {
      w.el.querySelector(':scope > legend')!.textContent = `${one} ${i + 1}`;
      for (const x of w.el.querySelectorAll('[name]')) x.setAttribute('name', x.getAttribute('name')!.replace(prefix, join(path, String(i))));
    });
  const push = (v: unknown) => {
    const w = widget(`${one} ${items.length + 1}`, join(path, String(items.length)), item, v, c);
    w.el.append(
      button(`Remove ${one}`, `remove-${one}`, () => {
        items.splice(items.indexOf(w), 1);
        w.el.remove();
        renumber();
      }),
    );
    items.push(w);
    el.append(w.el);
  };
  value.forEach(push);
  return { el: h('div', {}, el, button(`Add ${one}`, `add-${one}`, () => push(template(item)))), read: () => items.map((w) => w.read()) };
}

function jsonArea(path: string, value: unknown): Widget {
  const area = h('textarea', { name: path, rows: '4', spellcheck: 'false' });
  area.value = JSON.stringify(value, null, 2);
  return { el: area, read: () => JSON.parse(area.value) as unknown };
}

/** Objects, unions and lists: their own fields, ticks or items; anything else as JSON. */
function compound(key: string, path: string, s: Schema, value: unknown, c: Choices): Widget {
  const all = variants(s);
  if (all) return tagged(path, all, value, c);
  if (s.type === 'object' && s.properties) return objectFields(path, s, value, c);
  if (s.type === 'array' && s.items && Array.isArray(value)) {
    const options = optionsOf(key, s.items, c);
    if (options) return ticks(path, options, value);
    if (variants(s.items) || s.items.properties) return list(key, path, s.items, value, c);
  }
  return jsonArea(path, value);
}

/** A labelled input for one setting of the schema, the box's description under it. */
export function widget(key: string, path: string, s: Schema, value: unknown, c: Choices): Widget {
  const { schema, nullable } = unwrap(s);
  // What null means is said by the tick or the empty box's placeholder, not again below.
  const text = nullable ? schema.description?.replace(/;?\s*null: [^;]+/, '') : schema.description;
  const help = text ? [h('small', {}, text)] : [];
  const simple = scalar(key, path, schema, nullable, value, c);
  if (simple) return { el: h('label', { class: schema.type === 'boolean' ? 'inline' : 'setting' }, h('span', { class: 'key' }, words(key)), simple.input, ...help), read: simple.read };
  const inner = compound(key, path, schema, value ?? template(schema), c);
  const block = h('fieldset', { class: 'block' }, h('legend', {}, words(key)), ...help);
  if (!nullable) return (block.append(inner.el), { el: block, read: inner.read });
  // A nullable object or list: a tick for what null means ("always"), the fields only without it.
  const none = h('input', { type: 'checkbox', name: join(path, 'null') });
  none.checked = value === null || value === undefined;
  const sync = () => (inner.el.hidden = none.checked);
  none.addEventListener('change', sync);
  sync();
  block.append(h('label', { class: 'inline' }, none, nullMeaning(schema) ?? 'none'), inner.el);
  return { el: block, read: () => (none.checked ? null : inner.read()) };
}
