// The administrator's pages beside the settings: accounts (roles, add,
// remove) and the audit log (shown, and downloaded as a file).
import { api, h } from './ui.js';
import { maintenanceActions } from './maintenance.js';

interface UserRow {
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  channels: Record<string, string[]> | null;
}

interface AuditRecord {
  t: string;
  action: string;
  user: string | null;
  from: string | null;
  detail?: Record<string, unknown>;
}

const ROLES = ['admin', 'operator', 'viewer'] as const;
const RIGHTS = ['live', 'playback', 'export', 'ptz'] as const;
/** What each role may have at most; a per-channel list only narrows it (the box checks the same). */
const ROLE_RIGHTS: Record<UserRow['role'], readonly string[]> = { admin: RIGHTS, operator: RIGHTS, viewer: ['live', 'playback'] };

/**
 * The channel-rights grid of one account: "every channel" (the role's
 * rights), or a tick per channel and right. Saved as the account's
 * `channels` map; the role's ceiling greys out rights it can never have.
 */
function rightsEditor(u: UserRow, role: () => UserRow['role'], channels: { id: string; name: string }[], saved: (c: UserRow['channels']) => void, note: HTMLElement): HTMLElement {
  const all = h('input', { type: 'checkbox', name: `all-${u.name}` });
  all.checked = u.channels === null;
  const boxes: HTMLInputElement[] = [];
  const grid = h('table', { class: 'rights' }, h('thead', {}, h('tr', {}, h('th', {}, 'Channel'), ...RIGHTS.map((r) => h('th', {}, r)))));
  const rows = h('tbody');
  for (const c of channels) {
    const cells = RIGHTS.map((r) => {
      const box = h('input', { type: 'checkbox', 'data-channel': c.id, 'data-right': r });
      box.checked = u.channels === null ? ROLE_RIGHTS[role()].includes(r) : (u.channels[c.id] ?? []).includes(r);
      boxes.push(box);
      return h('td', {}, box);
    });
    rows.append(h('tr', {}, h('td', {}, c.name), ...cells));
  }
  grid.append(rows);
  const shade = () => {
    for (const b of boxes) b.disabled = all.checked || !ROLE_RIGHTS[role()].includes(b.dataset.right!);
  };
  shade();
  all.addEventListener('change', shade);
  const save = h('button', { type: 'button', 'data-save-rights': u.name }, 'Save rights');
  save.addEventListener('click', () => {
    let map: UserRow['channels'] = null;
    if (!all.checked) {
      map = {};
      for (const b of boxes) if (b.checked && !b.disabled) (map[b.dataset.channel!] ??= []).push(b.dataset.right!);
    }
    note.textContent = '';
    api('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { role: role(), channels: map }).then(
      () => saved(map),
      (e: Error) => (note.textContent = e.message),
    );
  });
  return h('div', { class: 'rights-editor', 'data-rights': u.name }, h('label', { class: 'inline' }, all, 'Every channel, with the role’s rights'), grid, save);
}

export async function usersView(): Promise<HTMLElement> {
  const [{ users }, { channels }] = await Promise.all([api<{ users: UserRow[] }>('GET', '/api/v1/users'), api<{ channels: { id: string; name: string }[] }>('GET', '/api/v1/channels')]);
  const note = h('p', { class: 'error', role: 'alert' });
  const body = h('tbody');
  for (const u of users) {
    const role = h('select', { name: `role-${u.name}` });
    for (const r of ROLES) role.append(h('option', { value: r }, r));
    role.value = u.role;
    role.addEventListener('change', () => {
      note.textContent = '';
      api('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { role: role.value, channels: u.channels }).then(
        () => {
          u.role = role.value as UserRow['role'];
          edit.hidden = u.role === 'admin';
          rights.textContent = u.role === 'admin' ? 'everything (administrator)' : summary(u.channels);
        },
        (e: Error) => {
          note.textContent = e.message;
          role.value = u.role;
        },
      );
    });
    const remove = h('button', { type: 'button', class: 'danger', 'data-remove': u.name }, 'Remove');
    remove.addEventListener('click', () => {
      if (!confirm(`Remove the account ${u.name}? Its sessions and API tokens end.`)) return;
      api('DELETE', `/api/v1/users/${encodeURIComponent(u.name)}`).then(
        () => body.querySelector(`tr[data-user="${CSS.escape(u.name)}"]`)?.remove(),
        (e: Error) => (note.textContent = e.message),
      );
    });
    const summary = (c: UserRow['channels']) => (c === null ? 'all channels (the role’s rights)' : Object.entries(c).map(([ch, r]) => `${ch}: ${r.join(', ')}`).join('; ') || 'no channel');
    const rights = h('span', { class: 'rights-summary' }, u.role === 'admin' ? 'everything (administrator)' : summary(u.channels));
    const edit = h('button', { type: 'button', 'data-edit-rights': u.name }, 'Rights…');
    edit.hidden = u.role === 'admin';
    const row = h('tr', { 'data-user': u.name }, h('td', {}, u.name), h('td', {}, role), h('td', {}, rights, ' ', edit), h('td', {}, remove));
    edit.addEventListener('click', () => {
      const open = body.querySelector(`tr[data-rights-for="${CSS.escape(u.name)}"]`);
      if (open) return open.remove();
      const editor = rightsEditor(u, () => role.value as UserRow['role'], channels, (c) => {
        u.channels = c;
        rights.textContent = summary(c);
        editorRow.remove();
      }, note);
      const editorRow = h('tr', { 'data-rights-for': u.name }, h('td', { colspan: '4' }, editor));
      row.after(editorRow);
    });
    body.append(row);
  }
  const name = h('input', { name: 'new-name', autocomplete: 'off', required: '' });
  const password = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', required: '' });
  const role = h('select', { name: 'new-role' });
  for (const r of ROLES) role.append(h('option', { value: r }, r));
  role.value = 'viewer';
  const add = h('form', { class: 'row' }, h('label', { class: 'inline' }, 'Name ', name), h('label', { class: 'inline' }, 'Password ', password), role, h('button', { type: 'submit' }, 'Add account'));
  add.addEventListener('submit', (e) => {
    e.preventDefault();
    note.textContent = '';
    api('POST', '/api/v1/users', { name: name.value, password: password.value, role: role.value }).then(
      async () => (document.getElementById('users')!.replaceWith(await usersView())),
      (err: Error) => (note.textContent = err.message),
    );
  });
  return h('div', { id: 'users', class: 'admin' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Account'), h('th', {}, 'Role'), h('th', {}, 'Channel rights'), h('th'))), body), add, note);
}

export async function auditView(): Promise<HTMLElement> {
  const { records } = await api<{ records: AuditRecord[] }>('GET', '/api/v1/audit?n=5000');
  const rows = [...records].reverse().slice(0, 500);
  // The box writes the file: the table holds the newest 5000 records, the log may hold more.
  const download = h('a', { class: 'button', id: 'audit-download', href: '/api/v1/audit/export.jsonl', download: '' }, 'Download the whole audit log');
  const table = h(
    'table',
    { id: 'audit' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'What'), h('th', {}, 'Who'), h('th', {}, 'From'), h('th', {}, 'Detail'))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', {}, new Date(r.t).toLocaleString()), h('td', {}, r.action), h('td', {}, r.user ?? ''), h('td', {}, r.from ?? ''), h('td', {}, r.detail ? JSON.stringify(r.detail) : '')))),
  );
  return h('div', { class: 'admin' }, h('div', { class: 'row' }, download, h('span', { class: 'help' }, 'Logins, failed logins, setting changes, exports, deletions and account changes; newest first.')), table);
}

interface SystemInfo {
  name: string;
  version: string;
  board: string;
  time: string;
  timezone: string;
  uptimeS: number;
}

/** What the box is, its log and its settings as a file: backup and restore. */
export async function maintenanceView(): Promise<HTMLElement> {
  const s = await api<SystemInfo>('GET', '/api/v1/system');
  const note = h('p', { class: 'note-inline', role: 'status' });
  const facts = h(
    'table',
    { id: 'system-info' },
    h('tbody', {}, ...([['Name', s.name], ['Firmware', s.version], ['Board', s.board], ['Clock', `${new Date(s.time).toLocaleString()} (${s.timezone})`], ['Running for', `${Math.floor(s.uptimeS / 3600)} h ${Math.floor((s.uptimeS % 3600) / 60)} min`]] as const).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
  );
  const backup = h('a', { class: 'button', id: 'backup', href: '/api/v1/system/backup', download: '' }, 'Download a backup of the settings');
  const logs = h('a', { class: 'button', id: 'logs', href: '/api/v1/system/logs', download: '' }, 'Download the log');
  const file = h('input', { type: 'file', name: 'restore-file', accept: 'application/json,.json' });
  const restore = h('button', { type: 'button', id: 'restore' }, 'Restore');
  restore.addEventListener('click', () => {
    const f = file.files?.[0];
    if (!f) return void (note.textContent = 'choose a backup file first');
    if (!confirm(`Replace every setting with ${f.name}? Passwords the file shows as *** keep their current value.`)) return;
    note.textContent = 'restoring…';
    f.text()
      .then((text) => api<{ name: string; version: number }>('POST', '/api/v1/system/restore', JSON.parse(text) as unknown))
      .then(
        (r) => (note.textContent = `restored (${r.name}, settings version ${r.version}); network ports apply at the next start`),
        (e: Error) => (note.textContent = e instanceof SyntaxError ? 'that file is not JSON: not restored' : e.message),
      );
  });
  return h(
    'div',
    { class: 'admin', id: 'maintenance' },
    facts,
    h('div', { class: 'row' }, backup, logs),
    h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Restore settings from a backup ', file), restore),
    h('p', { class: 'help' }, 'A backup holds no password (they show as ***): restored on this box, it keeps the passwords it has; on a new box, type them again.'),
    maintenanceActions(note),
    note,
  );
}
