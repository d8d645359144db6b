// The administrator's pages beside the settings: accounts (roles, add,
// remove) and the audit log (shown, and downloaded as a file).
import { api, h } from './ui.js';

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

export async function usersView(): Promise<HTMLElement> {
  const { users } = await api<{ users: UserRow[] }>('GET', '/api/v1/users');
  const note = h('p', { class: 'error', role: 'alert' });
  const body = h('tbody');
  for (const u of users) {
    const role = h('select', { name: `role-${u.name}` });
    for (const r of ROLES) role.append(h('option', { value: r }, r));
    role.value = u.role;
    role.addEventListener('change', () => {
      note.textContent = '';
      api('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { role: role.value, channels: u.channels }).catch((e: Error) => {
        note.textContent = e.message;
        role.value = u.role;
      });
    });
    const remove = h('button', { type: 'button', class: 'danger', 'data-remove': u.name }, 'Remove');
    remove.addEventListener('click', () => {
      if (!confirm(`Remove the account ${u.name}? Its sessions and API tokens end.`)) return;
      api('DELETE', `/api/v1/users/${encodeURIComponent(u.name)}`).then(
        () => body.querySelector(`tr[data-user="${CSS.escape(u.name)}"]`)?.remove(),
        (e: Error) => (note.textContent = e.message),
      );
    });
    const rights = u.channels === null ? 'all channels (the role’s rights)' : Object.entries(u.channels).map(([c, r]) => `${c}: ${r.join(', ')}`).join('; ');
    body.append(h('tr', { 'data-user': u.name }, h('td', {}, u.name), h('td', {}, role), h('td', {}, rights), h('td', {}, remove)));
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
  const download = h('button', { type: 'button', id: 'audit-download' }, `Download all ${records.length} records`);
  download.addEventListener('click', () => {
    const blob = new Blob([records.map((r) => JSON.stringify(r)).join('\n') + '\n'], { type: 'application/x-ndjson' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `audit-${new Date().toISOString().slice(0, 10)}.jsonl` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  const table = h(
    'table',
    { id: 'audit' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'What'), h('th', {}, 'Who'), h('th', {}, 'From'), h('th', {}, 'Detail'))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', {}, new Date(r.t).toLocaleString()), h('td', {}, r.action), h('td', {}, r.user ?? ''), h('td', {}, r.from ?? ''), h('td', {}, r.detail ? JSON.stringify(r.detail) : '')))),
  );
  return h('div', { class: 'admin' }, h('div', { class: 'row' }, download, h('span', { class: 'help' }, 'Logins, failed logins, setting changes, exports, deletions and account changes; newest first.')), table);
}
