// Settings, built from the config's own JSON Schema (the same validated
// config as `dvr config`): one tab per section, an input per setting with its
// description, limits and choices, saved on change by its dotted path, the
// box's verdict shown beside it. Lists (channels, rules...) show each item
// with its fields, and add or remove items as JSON the box validates.
// Secrets come as "***" and stay unchanged unless a new one is typed.
import { auditView, maintenanceView, usersView } from './admin.js';
import { SETTINGS_EDITORS } from './settings-editors.js';
import { api, h } from './ui.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  required?: string[];
}

/** A read that means "leave the setting as it is" (an emptied secret box). */
const SKIP = Symbol('skip');
const SECRET = /pass(word)?|secret|token|credential|authorization|cookie|private.?key|api.?key/i;

/** PATCHes one setting and shows the outcome in `note`. */
async function save(path: string, value: unknown, note: HTMLElement): Promise<boolean> {
  note.className = 'note-inline saving';
  note.textContent = 'saving…';
  try {
    await api('PATCH', '/api/v1/config', { path, value });
    note.className = 'note-inline saved';
    note.textContent = 'saved';
    return true;
  } catch (e) {
    note.className = 'note-inline error';
    note.textContent = (e as Error).message;
    return false;
  }
}

/** The schema of a nullable field's value, and whether null is allowed. */
function unwrap(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const inner = s.anyOf?.find((x) => x.type !== 'null');
  return inner && s.anyOf!.some((x) => x.type === 'null') ? { schema: { ...inner, description: s.description ?? inner.description }, nullable: true } : { schema: s, nullable: false };
}

function field(key: string, path: string, s: JsonSchema, value: unknown, reload: () => void): HTMLElement {
  const { schema, nullable } = unwrap(s);
  const note = h('span', { class: 'note-inline' });
  const title = h('span', { class: 'key' }, key);
  const help = schema.description ? h('small', {}, schema.description) : '';
  let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  let read: () => unknown;
  if (schema.enum) {
    const sel = h('select', { name: path });
    for (const v of schema.enum) sel.append(h('option', { value: v }, v));
    sel.value = String(value);
    input = sel;
    read = () => sel.value;
  } else if (schema.type === 'boolean') {
    const box = h('input', { type: 'checkbox', name: path });
    box.checked = value === true;
    input = box;
    read = () => box.checked;
  } else if (schema.type === 'integer' || schema.type === 'number') {
    const num = h('input', { type: 'number', name: path, step: schema.type === 'integer' ? '1' : 'any' });
    if (schema.minimum !== undefined) num.min = String(schema.minimum);
    if (schema.maximum !== undefined) num.max = String(schema.maximum);
    num.value = value === null || value === undefined ? '' : String(value);
    input = num;
    read = () => (num.value === '' && nullable ? null : Number(num.value));
  } else if (schema.type === 'string') {
    const secret = SECRET.test(key);
    const text = h('input', { type: secret ? 'password' : 'text', name: path, autocomplete: 'off' });
    // A secret is never shown: an empty box keeps it, anything typed replaces it.
    if (secret) text.placeholder = value === null || value === undefined ? '(none)' : '(unchanged)';
    else text.value = value === null || value === undefined ? '' : String(value);
    input = text;
    read = () => (text.value === '' ? (secret ? SKIP : nullable ? null : '') : text.value);
    if (path === 'system.timezone') zonePicker(text, note);
  } else {
    // Objects that may be absent, lists of values, tagged unions: edited as JSON, checked by the box.
    const area = h('textarea', { name: path, rows: String(Math.min(12, JSON.stringify(value, null, 2).split('\n').length + 1)), spellcheck: 'false' });
    area.value = JSON.stringify(value, null, 2);
    input = area;
    read = () => JSON.parse(area.value) as unknown;
  }
  input.addEventListener('change', () => {
    let v: unknown;
    try {
      v = read();
    } catch (e) {
      note.className = 'note-inline error';
      note.textContent = `not JSON: ${(e as Error).message}`;
      return;
    }
    if (v === SKIP) return;
    void save(path, v, note).then((ok) => ok && input instanceof HTMLTextAreaElement && reload());
  });
  return h('label', { class: 'setting' }, h('span', { class: 'head' }, title, note), input, help);
}

/**
 * The time zone as a choice among the IANA zones the browser knows (the
 * box's schedules are drawn in it), typed with completion; a name that is
 * not a zone is said at once and not sent.
 */
function zonePicker(text: HTMLInputElement, note: HTMLElement): void {
  const zones = new Set(Intl.supportedValuesOf('timeZone'));
  zones.add('UTC');
  if (!document.getElementById('timezones')) document.body.append(h('datalist', { id: 'timezones' }, ...[...zones].map((z) => h('option', { value: z }))));
  text.setAttribute('list', 'timezones');
  text.addEventListener('change', (e) => {
    if (zones.has(text.value)) return text.setCustomValidity('');
    const why = `${text.value} is not a time zone: pick one from the list, e.g. Europe/Paris`;
    text.setCustomValidity(why);
    note.className = 'note-inline error';
    note.textContent = why;
    e.stopImmediatePropagation();
  }, { capture: true });
}

/** A template for a new list item: defaults where the schema has them, empty required fields otherwise. */
function template(s: JsonSchema): unknown {
  if (s.default !== undefined) return s.default;
  if (s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(s.properties)) {
      if (p.default !== undefined) continue; // the box fills in defaults
      if (s.required?.includes(k)) out[k] = template(p);
    }
    return out;
  }
  if (s.type === 'string') return '';
  if (s.type === 'integer' || s.type === 'number') return s.minimum ?? 0;
  if (s.type === 'boolean') return false;
  if (s.type === 'array') return [];
  return null;
}

function section(key: string, path: string, s: JsonSchema, value: unknown, reload: () => void): HTMLElement {
  const { schema } = unwrap(s);
  if (schema.type === 'object' && schema.properties && value && typeof value === 'object') {
    const box = h('fieldset', {}, h('legend', {}, key));
    if (schema.description) box.append(h('p', { class: 'help' }, schema.description));
    for (const [k, p] of Object.entries(schema.properties)) box.append(section(k, path ? `${path}.${k}` : k, p, (value as Record<string, unknown>)[k], reload));
    return box;
  }
  if (schema.type === 'array' && schema.items?.type === 'object' && Array.isArray(value)) {
    const list = h('fieldset', { class: 'list' }, h('legend', {}, `${key} (${value.length})`));
    value.forEach((item, i) => {
      const name = String((item as { name?: unknown; id?: unknown }).name ?? (item as { id?: unknown }).id ?? i + 1);
      const remove = h('button', { type: 'button', class: 'danger' }, `Remove ${name}`);
      const note = h('span', { class: 'note-inline' });
      remove.addEventListener('click', () => {
        if (!confirm(`Remove ${name}?`)) return;
        void save(path, value.filter((_, j) => j !== i), note).then((ok) => ok && reload());
      });
      const item_ = section(name, `${path}.${i}`, schema.items!, item, reload);
      item_.append(h('div', { class: 'row' }, remove, note));
      list.append(item_);
    });
    const area = h('textarea', { rows: '6', spellcheck: 'false', name: `${path}.new` });
    area.value = JSON.stringify(template(schema.items), null, 2);
    const add = h('button', { type: 'button' }, `Add to ${key}`);
    const note = h('span', { class: 'note-inline' });
    add.addEventListener('click', () => {
      let v: unknown;
      try {
        v = JSON.parse(area.value);
      } catch (e) {
        note.className = 'note-inline error';
        note.textContent = `not JSON: ${(e as Error).message}`;
        return;
      }
      void save(`${path}.${value.length}`, v, note).then((ok) => ok && reload());
    });
    list.append(h('details', {}, h('summary', {}, `Add to ${key}…`), area, h('div', { class: 'row' }, add, note)));
    return list;
  }
  return field(key, path, s, value, reload);
}

export async function settingsView(show: (...n: Node[]) => void): Promise<void> {
  const [{ schema }, { config }] = await Promise.all([
    api<{ schema: JsonSchema }>('GET', '/api/v1/config/schema'),
    api<{ config: Record<string, unknown> }>('GET', '/api/v1/config'),
  ]);
  const extra: Record<string, () => Promise<HTMLElement>> = { users: usersView, audit: auditView, maintenance: maintenanceView };
  const keys = [...Object.keys(schema.properties ?? {}).filter((k) => k !== 'version'), ...Object.keys(extra)];
  let current = sessionStorage.getItem('settings-tab') ?? keys[0]!;
  if (!keys.includes(current)) current = keys[0]!;
  const body = h('div', { class: 'settings-body' });
  const tabs = keys.map((k) => {
    const b = h('button', { type: 'button', 'data-section': k, 'aria-pressed': String(k === current) }, k);
    b.addEventListener('click', () => {
      current = k;
      sessionStorage.setItem('settings-tab', k);
      for (const x of tabs) x.setAttribute('aria-pressed', String(x === b));
      render();
    });
    return b;
  });
  const reload = () => void settingsView(show);
  const render = () => {
    const page = extra[current];
    if (!page) {
      const tab = current;
      body.replaceChildren(section(tab, tab, schema.properties![tab]!, config[tab], reload));
      // Purpose-built editors go above the generic fields, in their order, as each is ready.
      const slots = (SETTINGS_EDITORS[tab] ?? []).map((build) => {
        const slot = h('div', { class: 'editor' });
        build(config, reload).then(
          (el) => slot.replaceChildren(el),
          (e: Error) => slot.replaceChildren(h('p', { class: 'error' }, e.message)),
        );
        return slot;
      });
      body.prepend(...slots);
      return;
    }
    page().then(
      (el) => body.replaceChildren(el),
      (e: Error) => body.replaceChildren(h('p', { class: 'error' }, e.message)),
    );
  };
  show(h('div', { class: 'tools tabs' }, ...tabs), body);
  render();
}
