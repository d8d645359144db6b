// The disk bays above the storage settings: what `dvr disk list` shows, and
// a format per bay behind an inline confirmation. The admin types the bay's
// name (a click alone is too easy to make on the wrong row) and, when the
// disk holds this box's recordings, ticks force after reading what goes.
import type { SettingsEditor } from './settings-editors.js';
import { api, h } from './ui.js';

interface Disk {
  name: string;
  kind: 'block' | 'directory';
  state: string;
  detail?: string;
  blocks: number;
  blockSize: number;
  usedBlocks: number;
  lockedBlocks: number;
  usedBytes: number;
  capacityBytes: number | null;
  model: string | null;
  serial: string | null;
  node: string | null;
  smart: { passed: boolean | null; temperatureC: number | null } | null;
  smartDetail?: string;
}

interface FormatPlan {
  bay: string;
  target: string;
  destroys: string[];
  holdsRecordings: boolean;
}

function bytes(n: number | null): string {
  if (n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

function smartText(d: Disk): string {
  if (!d.smart || d.smart.passed === null) return d.kind === 'block' ? `n/a${d.smartDetail ? ` (${d.smartDetail})` : ''}` : '–';
  const temp = d.smart.temperatureC === null ? '' : `, ${d.smart.temperatureC} °C`;
  return `${d.smart.passed ? 'PASSED' : 'FAILING'}${temp}`;
}

/** The inline confirmation of one bay's format, in a row of its own under the bay. */
async function confirmPanel(bay: string, done: (outcome: string) => void, cancel: () => void): Promise<HTMLElement> {
  const { plan } = await api<{ plan: FormatPlan }>('GET', `/api/v1/disks/${encodeURIComponent(bay)}/format`);
  const typed = h('input', { type: 'text', name: `confirm-${bay}`, autocomplete: 'off', spellcheck: 'false' });
  const force = h('input', { type: 'checkbox', name: `force-${bay}` });
  const go = h('button', { type: 'button', class: 'danger', 'data-format-go': bay }, `Format ${bay}`);
  const cancelButton = h('button', { type: 'button' }, 'Cancel');
  const note = h('span', { class: 'note-inline', role: 'status' });
  const ready = () => (go.disabled = typed.value !== bay || (plan.holdsRecordings && !force.checked));
  ready();
  typed.addEventListener('input', ready);
  force.addEventListener('change', ready);
  cancelButton.addEventListener('click', cancel);
  go.addEventListener('click', () => {
    go.disabled = true;
    note.className = 'note-inline saving';
    note.textContent = 'formatting…';
    api<{ blocks: number; blockSize: number; state: string }>('POST', `/api/v1/disks/${encodeURIComponent(bay)}/format`, { confirm: typed.value, force: force.checked }).then(
      (r) => done(`Bay ${bay} formatted: ${r.blocks} blocks of ${bytes(r.blockSize)}, disk ${r.state}.`),
      (e: Error) => {
        note.className = 'note-inline error';
        note.textContent = e.message;
        ready();
      },
    );
  });
  const destroys = plan.destroys.length ? h('ul', { class: 'destroys' }, ...plan.destroys.map((x) => h('li', {}, x))) : h('p', { class: 'help' }, 'Nothing is recorded on it.');
  return h(
    'div',
    { class: 'format-confirm', 'data-confirm': bay },
    h('p', {}, `Formatting bay ${bay} (${plan.target}) destroys:`),
    destroys,
    plan.holdsRecordings ? h('label', { class: 'inline' }, force, "It holds this box's recordings: erase them (force)") : '',
    h('label', { class: 'inline' }, `Type ${bay} to confirm:`, typed),
    h('div', { class: 'row' }, go, cancelButton, note),
  );
}

export const storageEditor: SettingsEditor = async () => {
  const box = h('section', { class: 'disks admin' });
  const outcome = h('p', { class: 'note-inline saved', role: 'status', 'data-disk-outcome': '' });
  const load = async () => {
    const { disks } = await api<{ disks: Disk[] }>('GET', '/api/v1/disks');
    const body = h('tbody');
    for (const d of disks) {
      const format = h('button', { type: 'button', class: 'danger', 'data-format': d.name }, 'Format…');
      const row = h(
        'tr',
        { 'data-bay': d.name },
        h('td', {}, d.name),
        h('td', { class: `state-${d.state}` }, d.state, d.detail ? h('small', {}, ` ${d.detail}`) : ''),
        h('td', {}, bytes(d.capacityBytes)),
        h('td', {}, d.blocks ? `${bytes(d.usedBytes)} (${d.usedBlocks}/${d.blocks} blocks${d.lockedBlocks ? `, ${d.lockedBlocks} locked` : ''})` : '–'),
        h('td', {}, smartText(d)),
        h('td', {}, [d.model, d.serial].filter(Boolean).join(' / ') || '–'),
        h('td', {}, format),
      );
      const slot = h('tr', { class: 'format-slot' }, h('td', { colspan: '7' }));
      slot.hidden = true;
      format.addEventListener('click', () => {
        format.disabled = true;
        const close = () => ((slot.hidden = true), (format.disabled = false));
        const done = (text: string) => {
          outcome.className = 'note-inline saved';
          outcome.textContent = text;
          load().catch((e: Error) => ((outcome.className = 'note-inline error'), (outcome.textContent = e.message)));
        };
        confirmPanel(d.name, done, close).then(
          (panel) => slot.firstElementChild!.replaceChildren(panel),
          (e: Error) => {
            slot.firstElementChild!.replaceChildren(h('p', { class: 'error' }, e.message));
            format.disabled = false;
          },
        );
        slot.hidden = false;
      });
      body.append(row, slot);
    }
    const head = h('tr', {}, ...['Bay', 'State', 'Capacity', 'Used', 'SMART', 'Model / serial', ''].map((x) => h('th', {}, x)));
    box.replaceChildren(h('h3', {}, 'Disks'), h('table', { class: 'disk-table' }, h('thead', {}, head), body), outcome);
  };
  await load();
  return box;
};
