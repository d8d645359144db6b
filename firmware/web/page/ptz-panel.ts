// PTZ controls over a channel alone in the live view: hold an arrow or a
// zoom button to move (released: stop), or call a preset.
import { api, h } from './ui.js';

export function ptzPanel(channel: string, state: (text: string) => void): HTMLElement {
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
  void api<{ presets: { number: number; name: string }[] }>('GET', path).then(
    (r) => presets.replaceChildren(...r.presets.map((p) => h('option', { value: String(p.number) }, `${p.number} ${p.name}`))),
    (e: Error) => state(`PTZ: ${e.message}`),
  );
  const panel = h(
    'div',
    { class: 'ptz' },
    h('div', { class: 'pad' }, h('span'), hold('▲', 'up', 0, 0.5, 0), h('span'), hold('◀', 'left', -0.5, 0, 0), h('span'), hold('▶', 'right', 0.5, 0, 0), h('span'), hold('▼', 'down', 0, -0.5, 0), h('span')),
    h('div', { class: 'row' }, hold('+', 'zoom in', 0, 0, 0.5), hold('−', 'zoom out', 0, 0, -0.5)),
    h('div', { class: 'row' }, presets, go),
  );
  // Clicks on the controls are not clicks on the picture (which leave the single view).
  panel.addEventListener('click', (e) => e.stopPropagation());
  return panel;
}
