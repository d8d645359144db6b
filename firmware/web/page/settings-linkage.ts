// The linkage rules as a commercial recorder's Linkage page shows them: a
// card per rule (on or off, its name, what sets it off, when it may fire,
// what it does), drawn from the config's JSON Schema by
// settings-linkage-fields.ts, so a trigger or action type added to
// firmware/linkage/rules.ts shows up here without page code. A card's Save
// sends the whole `linkage.rules` list (the box's last saved rules with this
// one in its place, never another card's unsaved edits) through the same
// validated PATCH /api/v1/config as every setting; the box's verdict is
// shown beside it, and a refused form stays as typed.
import type { SettingsEditor } from './settings-editors.js';
import { button, objectFields, template, type Choices, type Option, type Schema } from './settings-linkage-fields.js';
import { api, h } from './ui.js';

interface Named {
  id: string;
  name?: string;
  onvif?: { ptz?: boolean } | null;
}
interface Alarms {
  inputs?: { input: string; name?: string }[];
  relays?: { relay: string }[];
  modules?: { id: string; inputs?: number; outputs?: number }[];
}
type Rule = Record<string, unknown>;

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const named = (id: string, name?: string): Option => ({ value: id, label: name && name !== id ? `${name} (${id})` : id });

/** What a rule may refer to, from the config: channels of both kinds, alarm inputs and relays (with the RS-485 modules' lines), PTZ domes and tours. */
function choicesOf(config: Record<string, unknown>): Choices {
  const alarms = (config.alarms ?? {}) as Alarms;
  const ptz = (config.ptz ?? {}) as { domes?: Named[]; tours?: Named[] };
  const channels = [...arr<Named>(config.channels), ...arr<Named>(config.dvrChannels)];
  // A module's lines are <id>.in1..N and <id>.out1..N (alarms/config.ts); 8 is the schema's default count.
  const lines = (kind: 'in' | 'out') =>
    arr<NonNullable<Alarms['modules']>[number]>(alarms.modules).flatMap((m) => Array.from({ length: (kind === 'in' ? m.inputs : m.outputs) ?? 8 }, (_, i) => named(`${m.id}.${kind}${i + 1}`)));
  return {
    channel: channels.map((c) => named(c.id, c.name)),
    input: [...arr<{ input: string; name?: string }>(alarms.inputs).map((i) => named(i.input, i.name)), ...lines('in')],
    output: [...arr<{ relay: string }>(alarms.relays).map((r) => named(r.relay)), ...lines('out')],
    // An ONVIF PTZ camera is a dome under its channel's id.
    dome: [...arr<Named>(ptz.domes).map((d) => named(d.id, d.name)), ...channels.filter((c) => c.onvif?.ptz).map((c) => named(c.id, c.name))],
    tour: arr<Named>(ptz.tours).map((t) => named(t.id)),
  };
}

function verdict(note: HTMLElement, kind: 'saving' | 'saved' | 'error', text: string): void {
  note.className = `note-inline ${kind}`;
  note.textContent = text;
}

export const linkageEditor: SettingsEditor = async (config) => {
  const { schema } = await api<{ schema: Schema }>('GET', '/api/v1/config/schema');
  const ruleSchema = schema.properties?.linkage?.properties?.rules?.items;
  if (!ruleSchema) throw new Error('this firmware has no linkage rules in its config schema');
  const linkage = (config.linkage ?? (config.linkage = { rules: [] })) as { rules: Rule[] };
  const choices = choicesOf(config);
  const cards: { index: number | null; el: HTMLElement }[] = [];
  const list = h('div', { class: 'linkage-rules' });
  const empty = h('p', { class: 'help' }, 'No rules yet.');

  /** Sends the whole list; on success it is the box's list (defaults filled in), kept for the next save and for the tabs drawn again. */
  const send = async (rules: unknown[], note: HTMLElement): Promise<boolean> => {
    verdict(note, 'saving', 'saving…');
    try {
      const { value } = await api<{ value: Rule[] }>('PATCH', '/api/v1/config', { path: 'linkage.rules', value: rules });
      linkage.rules = value;
      verdict(note, 'saved', 'saved');
      return true;
    } catch (e) {
      verdict(note, 'error', (e as Error).message);
      return false;
    }
  };

  const card = (rule: Rule, index: number | null) => {
    const fields = objectFields('', ruleSchema, rule, choices);
    const title = h('legend', {}, String(rule.name || 'New rule'));
    const note = h('span', { class: 'note-inline', role: 'status' });
    const el = h('fieldset', { class: 'linkage-rule' }, title);
    const me = { index, el };
    cards.push(me);
    const save = button('Save', 'rule-save', () => {
      let typed: Rule;
      try {
        typed = fields.read() as Rule;
      } catch (e) {
        return verdict(note, 'error', `not JSON: ${(e as Error).message}`);
      }
      const next = [...linkage.rules];
      next[me.index ?? next.length] = typed;
      void send(next, note).then((ok) => {
        if (!ok) return;
        me.index ??= next.length - 1;
        title.textContent = String(typed.name || 'New rule');
      });
    });
    save.classList.add('primary');
    const remove = button('Delete', 'rule-delete', () => {
      if (!confirm(`Delete the rule "${title.textContent}"?`)) return;
      const gone = () => {
        el.remove();
        cards.splice(cards.indexOf(me), 1);
        // The rules after it move up one place in the box's list.
        for (const c of cards) if (c.index !== null && me.index !== null && c.index > me.index) c.index--;
        empty.hidden = cards.length > 0;
      };
      if (me.index === null) return gone(); // never saved: nothing to tell the box
      void send(linkage.rules.filter((_, j) => j !== me.index), note).then((ok) => ok && gone());
    });
    remove.classList.add('danger');
    el.append(fields.el, h('div', { class: 'row' }, save, remove, note));
    list.append(el);
    empty.hidden = true;
  };

  const add = button('Add rule', 'linkage-add', () => {
    // A free id and name; the rest as the schema starts it (enabled, always, the first trigger type, no actions).
    const ids = new Set([...linkage.rules.map((r) => r.id), ...[...list.querySelectorAll<HTMLInputElement>('input[name=id]')].map((i) => i.value)]);
    let n = 1;
    while (ids.has(`rule${n}`)) n++;
    card({ ...(template(ruleSchema) as Rule), id: `rule${n}`, name: `Rule ${n}` }, null);
  });
  linkage.rules.forEach((r, i) => card(r, i));
  empty.hidden = cards.length > 0;
  return h(
    'section',
    { class: 'linkage-editor' },
    h('h3', {}, 'Linkage rules'),
    h('p', { class: 'help' }, 'When a rule\'s trigger happens inside its schedule, the box does its actions. Each rule is saved on its own with its Save button; the box checks it and says what it refuses.'),
    empty,
    list,
    h('div', { class: 'row' }, add),
  );
};
