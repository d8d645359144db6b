// The network tab's status and NTP test: the addresses the box has now
// (whatever the settings below say, this is what the OS gave it), whether the
// firmware manages them and how they were last applied, and "Test" of an NTP
// server, typed or the saved ones, with how far off the box's clock is.
import { api, h } from './ui.js';

interface Status {
  managed: boolean;
  interface: string | null;
  addresses: { name: string; addresses: { family: string; address: string; cidr: string | null }[] }[];
  lastApply: { at: number; ok: boolean; error?: string } | null;
  time: string;
}
type NtpCheck = { ok: true; server: string; stratum: number; offsetMs: number; delayMs: number } | { ok: false; server: string | null; error: string };

/** "+1.2 s ahead" / "35 ms behind": which way the server's clock differs from the box's. */
function offsetText(ms: number): string {
  const size = Math.abs(ms) >= 1000 ? `${(Math.abs(ms) / 1000).toFixed(1)} s` : `${Math.round(Math.abs(ms))} ms`;
  return ms >= 0 ? `the box is ${size} behind it` : `the box is ${size} ahead of it`;
}

export async function networkEditor(): Promise<HTMLElement> {
  const s = await api<Status>('GET', '/api/v1/network');
  const rows = s.addresses.flatMap((i) => i.addresses.map((a) => h('tr', {}, h('td', {}, i.name), h('td', {}, a.family), h('td', {}, a.cidr ?? a.address))));
  const applied = s.lastApply
    ? h('p', { class: s.lastApply.ok ? 'help' : 'error', id: 'network-applied' }, s.lastApply.ok ? `Settings applied ${new Date(s.lastApply.at).toLocaleString()}.` : `The settings could not be applied: ${s.lastApply.error}`)
    : '';
  const managed = s.managed
    ? h('p', { class: 'help' }, `The firmware sets ${s.interface ?? 'the LAN interface'} from the settings below.`)
    : h('p', { class: 'note', id: 'network-unmanaged' }, 'This board\'s network is not managed by the firmware: the settings below are kept, and the OS keeps the address it has.');

  const server = h('input', { type: 'text', name: 'ntp-test-server', placeholder: 'pool.ntp.org (empty: the saved servers)', spellcheck: 'false', autocomplete: 'off' });
  const note = h('span', { class: 'note-inline', id: 'ntp-test-result', role: 'status' });
  const button = h('button', { type: 'button', id: 'ntp-test' }, 'Test NTP');
  button.addEventListener('click', () => {
    note.className = 'note-inline saving';
    note.textContent = 'asking…';
    const typed = server.value.trim();
    api<NtpCheck>('POST', '/api/v1/network/ntp-test', typed ? { server: typed } : {}).then(
      (r) => {
        note.className = `note-inline ${r.ok ? 'ok' : 'error'}`;
        note.textContent = r.ok ? `${r.server} answered (stratum ${r.stratum}, ${Math.round(r.delayMs)} ms away): ${offsetText(r.offsetMs)}` : r.error;
      },
      (e: Error) => {
        note.className = 'note-inline error';
        note.textContent = e.message;
      },
    );
  });
  return h(
    'section',
    { class: 'network-status' },
    h('h3', {}, 'Network now'),
    managed,
    rows.length ? h('table', { class: 'disk-table', id: 'network-addresses' }, h('thead', {}, h('tr', {}, h('th', {}, 'Interface'), h('th', {}, 'Family'), h('th', {}, 'Address'))), h('tbody', {}, ...rows)) : h('p', { class: 'help' }, 'No address besides loopback.'),
    applied,
    h('p', { class: 'help' }, `The box's clock: ${new Date(s.time).toLocaleString()}.`),
    h('div', { class: 'row' }, server, button, note),
  );
}
