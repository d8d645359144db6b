// PTZ controls over a channel alone in the live view: hold an arrow or a
// zoom button to move (released: stop), or call a preset. Operators and
// admins also store the view as a named preset, rename or clear one.
import { api, h } from './ui.js';

export function ptzPanel(channel: string, state: (text: string) => void, editPresets = false): HTMLElement {
  const path = `/api/v1/channels/${encodeURIComponent(channel)}/ptz`;
  const send = (body: Record<string, unknown>) => api('POST', path, body).catch((e: Error) => state(`PTZ: ${e.message}`));
  const hold = (label: string, title: string, pan: number, tilt: number, zoom: number) => {
    const b = h('button', { type: 'button', title, 'data-ptz': title }, label);
    let moving = false;
    const stop = () => {
      if (!moving) return;
      moving = false;
      void send({ action: 'stop' });
    };
    b.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      moving = true;
      b.setPointerCapture(e.pointerId);
      void send({ action: 'move', pan, tilt, zoom });
    });
    b.addEventListener('pointerup', stop);
    b.addEventListener('pointercancel', stop);
    return b;
  };
  const presets = h('select', { name: 'preset' });
  const go = h('button', { type: 'button', 'data-ptz': 'preset' }, 'Go');
  go.addEventListener('click', () => presets.value && void send({ action: 'preset', preset: Number(presets.value) }));
  type Presets = { presets: { number: number; name: string }[] };
  const list = (r: Presets) => presets.replaceChildren(...r.presets.map((p) => h('option', { value: String(p.number) }, `${p.number} ${p.name}`)));
  void api<Presets>('GET', path).then(list, (e: Error) => state(`PTZ: ${e.message}`));
  const panel = h(
    'div',
    { class: 'ptz' },
    h('div', { class: 'pad' }, h('span'), hold('▲', 'up', 0, 0.5, 0), h('span'), hold('◀', 'left', -0.5, 0, 0), h('span'), hold('▶', 'right', 0.5, 0, 0), h('span'), hold('▼', 'down', 0, -0.5, 0), h('span')),
    h('div', { class: 'row' }, hold('+', 'zoom in', 0, 0, 0.5), hold('−', 'zoom out', 0, 0, -0.5)),
    h('div', { class: 'row' }, presets, go),
  );
  if (editPresets) panel.append(presetEditor(path, presets, list, state));
  // Clicks on the controls are not clicks on the picture (which leave the single view).
  panel.addEventListener('click', (e) => e.stopPropagation());
  return panel;
}

/** Number and name, then: store the view there, only rename it, or clear it. */
function presetEditor(
  path: string,
  presets: HTMLSelectElement,
  list: (r: { presets: { number: number; name: string }[] }) => void,
  state: (text: string) => void,
): HTMLElement {
  const number = h('input', { name: 'preset-number', type: 'number', min: '1', max: '255', title: 'Preset number', placeholder: 'No.' });
  const name = h('input', { name: 'preset-name', maxlength: '64', title: 'Preset name', placeholder: 'Name' });
  // Picking a preset in the list fills the editor, so renaming one is two clicks.
  presets.addEventListener('change', () => {
    number.value = presets.value;
    name.value = presets.selectedOptions[0]?.textContent?.replace(/^\d+ /, '') ?? '';
  });
  const act = (label: string, key: string, call: () => Promise<{ presets: { number: number; name: string }[] }>) => {
    const b = h('button', { type: 'button', 'data-ptz': key, title: key === 'save' ? 'Store where the dome points now under this number and name' : `${label} this preset` }, label);
    b.addEventListener('click', () => {
      if (!number.value) return state('PTZ: give the preset number');
      void call().then(
        (r) => {
          list(r);
          presets.value = number.value;
          state(`PTZ: preset ${number.value} ${key === 'clear' ? 'cleared' : 'saved'}`);
        },
        (e: Error) => state(`PTZ: ${e.message}`),
      );
    });
    return b;
  };
  const at = () => `${path}/presets/${encodeURIComponent(number.value)}`;
  return h(
    'div',
    { class: 'presets-edit' },
    h('div', { class: 'row' }, number, name),
    h(
      'div',
      { class: 'row' },
      act('Save', 'save', () => api('PUT', at(), { name: name.value, store: true })),
      act('Rename', 'rename', () => api('PUT', at(), { name: name.value, store: false })),
      act('Clear', 'clear', () => api('DELETE', at())),
    ),
  );
}
