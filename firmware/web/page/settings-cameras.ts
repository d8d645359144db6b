// Adding IP cameras above the channels tab: find them by ONVIF discovery (or
// type an address), check one with its login (model, streams, PTZ, events),
// then add it as a channel with the streams the camera gave; or add a camera
// without ONVIF by its RTSP URL. The channel is written like any setting
// (PATCH /api/v1/config at channels.<n>), so the box validates it.
import type { SettingsEditor } from './settings-editors.js';
import { api, h } from './ui.js';

interface Found {
  urn: string;
  address: string;
  port: number;
  path: string;
  name: string | null;
  hardware: string | null;
  usedBy: string | null;
}

interface Stream {
  uri: string;
  width: number | null;
  height: number | null;
  encoding: string | null;
}

interface Probe {
  host: string;
  port: number;
  path: string;
  device: { manufacturer: string; model: string; firmware: string; serial: string };
  main: Stream;
  sub: Stream | null;
  snapshotUri: string | null;
  ptz: boolean;
  events: boolean;
  usedBy: string | null;
}

function input(name: string, attrs: Record<string, string> = {}): HTMLInputElement {
  return h('input', { name, autocomplete: 'off', ...attrs });
}

function labelled(text: string, el: HTMLElement): HTMLElement {
  return h('label', {}, text, el);
}

function tell(note: HTMLElement, text: string, kind: 'saving' | 'saved' | 'error' | '' = ''): void {
  note.className = `note-inline ${kind}`;
  note.textContent = text;
}

/** A channel id from a model name ("DS-2DE2A404IW" → "ds-2de2a404iw"), not one already taken. */
export function proposeId(model: string, taken: Set<string>): string {
  const base = model.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 28) || 'camera';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

function describe(s: Stream): string {
  const size = s.width && s.height ? `${s.width}×${s.height}` : 'size unknown';
  return `${s.encoding ?? 'video'} ${size}: ${s.uri}`;
}

export const camerasEditor: SettingsEditor = async (config, reload) => {
  const channels = (config.channels as { id: string }[] | undefined) ?? [];
  const taken = new Set([...channels, ...((config.dvrChannels as { id: string }[] | undefined) ?? [])].map((c) => c.id));
  /** Writes one new channel at the end of the list; the box's refusal is shown as it is. */
  const addChannel = async (channel: Record<string, unknown>, note: HTMLElement) => {
    if (taken.has(String(channel.id))) return tell(note, `the id ${String(channel.id)} is taken`, 'error');
    tell(note, 'adding…', 'saving');
    try {
      // The list as it is now: channels.<n> below its length would replace a channel added meanwhile.
      const now = (await api<{ config: { channels: { id: string }[] } }>('GET', '/api/v1/config')).config.channels;
      if (now.some((c) => c.id === channel.id)) return tell(note, `the id ${String(channel.id)} is taken`, 'error');
      await api('PATCH', '/api/v1/config', { path: `channels.${now.length}`, value: channel });
      tell(note, 'added', 'saved');
      reload();
    } catch (e) {
      tell(note, (e as Error).message, 'error');
    }
  };

  // Where to connect and with what login; discovery fills the address in.
  const host = input('camera-host', { placeholder: '192.168.1.64' });
  const port = input('camera-port', { type: 'number', min: '1', max: '65535', value: '80' });
  let path = '/onvif/device_service';
  const user = input('camera-user', { value: 'admin' });
  const password = input('camera-password', { type: 'password' });
  const check = h('button', { type: 'button', id: 'camera-check' }, 'Check');
  const checkNote = h('span', { class: 'note-inline' });
  const result = h('div', { class: 'camera-result' });

  const find = h('button', { type: 'button', id: 'camera-find' }, 'Find cameras');
  const findNote = h('span', { class: 'note-inline' });
  const list = h('ul', { class: 'camera-list' });
  find.addEventListener('click', () => {
    find.disabled = true;
    tell(findNote, 'asking the network for ONVIF cameras…', 'saving');
    list.replaceChildren();
    api<{ devices: Found[] }>('POST', '/api/v1/onvif/discover').then(
      ({ devices }) => {
        find.disabled = false;
        tell(findNote, devices.length ? `${devices.length} found: pick one` : 'no camera answered (type its address below)');
        for (const d of devices) {
          const pick = h('button', { type: 'button', 'data-camera': d.address }, `${d.name ?? d.hardware ?? 'camera'} at ${d.address}:${d.port}`);
          pick.addEventListener('click', () => {
            host.value = d.address;
            port.value = String(d.port);
            path = d.path;
            result.replaceChildren();
            password.focus();
          });
          const about = [d.hardware && d.hardware !== d.name ? d.hardware : '', d.usedBy ? `already channel ${d.usedBy}` : ''].filter(Boolean).join(', ');
          list.append(h('li', {}, pick, about ? h('small', {}, about) : ''));
        }
      },
      (e: Error) => {
        find.disabled = false;
        tell(findNote, e.message, 'error');
      },
    );
  });
  // A typed address is the standard service path, whatever an earlier pick said.
  host.addEventListener('input', () => (path = '/onvif/device_service'));

  check.addEventListener('click', () => {
    check.disabled = true;
    tell(checkNote, 'connecting…', 'saving');
    result.replaceChildren();
    const login = { username: user.value, password: password.value };
    api<Probe>('POST', '/api/v1/onvif/probe', { host: host.value.trim(), port: Number(port.value) || 80, path, ...login }).then(
      (p) => {
        check.disabled = false;
        tell(checkNote, '');
        result.replaceChildren(...probeResult(p, login, taken, addChannel));
      },
      (e: Error) => {
        check.disabled = false;
        tell(checkNote, e.message, 'error');
      },
    );
  });

  return h(
    'fieldset',
    { class: 'cameras' },
    h('legend', {}, 'Add a camera'),
    h('div', { class: 'row' }, find, findNote),
    list,
    h('div', { class: 'row wrap' }, labelled('Address', host), labelled('Port', port), labelled('User name', user), labelled('Password', password), check, checkNote),
    result,
    rtspForm(taken, addChannel),
  );
};

/** What the camera said, and the channel it would be: id and name editable. */
function probeResult(p: Probe, login: { username: string; password: string }, taken: Set<string>, add: (c: Record<string, unknown>, note: HTMLElement) => Promise<void>): HTMLElement[] {
  const model = [p.device.manufacturer, p.device.model].filter(Boolean).join(' ');
  const id = input('new-id', { value: proposeId(p.device.model || p.device.manufacturer, taken), maxlength: '32' });
  const name = input('new-name', { value: (p.device.model || 'Camera').slice(0, 64), maxlength: '64' });
  const addButton = h('button', { type: 'button', id: 'camera-add' }, 'Add');
  const note = h('span', { class: 'note-inline' });
  addButton.addEventListener('click', () => {
    void add(
      {
        id: id.value.trim(),
        name: name.value.trim(),
        main: { url: p.main.uri },
        sub: p.sub ? { url: p.sub.uri } : null,
        username: login.username,
        password: login.password,
        onvif: { host: p.host, port: p.port, path: p.path, ptz: p.ptz, events: p.events },
      },
      note,
    );
  });
  return [
    h('p', { class: 'camera-model' }, `${model || 'ONVIF camera'} (firmware ${p.device.firmware || '?'}, serial ${p.device.serial || '?'})`),
    h('ul', { class: 'camera-streams' }, h('li', {}, `main: ${describe(p.main)}`), h('li', {}, p.sub ? `sub: ${describe(p.sub)}` : 'sub: none')),
    h('p', { class: 'help' }, `PTZ: ${p.ptz ? 'yes' : 'no'}. Events: ${p.events ? 'yes' : 'no'}.${p.usedBy ? ` Already channel ${p.usedBy}.` : ''}`),
    h('div', { class: 'row wrap' }, labelled('Channel id', id), labelled('Name', name), addButton, note),
  ];
}

/** Cameras without ONVIF: the streams' RTSP URLs typed in, the login optional. */
function rtspForm(taken: Set<string>, add: (c: Record<string, unknown>, note: HTMLElement) => Promise<void>): HTMLElement {
  const id = input('rtsp-id', { value: proposeId('camera', taken), maxlength: '32' });
  const name = input('rtsp-name', { value: 'Camera', maxlength: '64' });
  const main = input('rtsp-main', { placeholder: 'rtsp://192.168.1.64:554/stream1' });
  const sub = input('rtsp-sub', { placeholder: '(optional)' });
  const user = input('rtsp-user', { placeholder: '(optional)' });
  const password = input('rtsp-password', { type: 'password', placeholder: '(optional)' });
  const addButton = h('button', { type: 'button', id: 'rtsp-add' }, 'Add');
  const note = h('span', { class: 'note-inline' });
  addButton.addEventListener('click', () => {
    void add(
      {
        id: id.value.trim(),
        name: name.value.trim(),
        main: { url: main.value.trim() },
        sub: sub.value.trim() ? { url: sub.value.trim() } : null,
        username: user.value || null,
        password: password.value || null,
      },
      note,
    );
  });
  return h(
    'details',
    { class: 'rtsp-add' },
    h('summary', {}, 'Add by RTSP URL…'),
    h('div', { class: 'row wrap' }, labelled('Channel id', id), labelled('Name', name), labelled('Main stream URL', main), labelled('Sub stream URL', sub)),
    h('div', { class: 'row wrap' }, labelled('User name', user), labelled('Password', password), addButton, note),
  );
}
