// Above the analog channels tab: the motion grid (22 × 18 cells, as common
// DVRs have) drawn over the channel's live picture. Drag to mask cells (no
// motion there) or to unmask them; the sensitivity slider applies to every
// detecting cell. Saved as `dvrChannels.<i>.motion.cells` (0 = masked), the
// same setting `dvr config set` writes.
import { LivePlayer } from './live-player.js';
import { api, h } from './ui.js';

const COLS = 22;
const ROWS = 18;

interface AnalogChannel {
  id: string;
  name: string;
  motion: { enabled: boolean; sensitivity: number; cells: number[] | null; minCells: number };
}

export async function motionMaskEditor(config: Record<string, unknown>, reload: () => void): Promise<HTMLElement> {
  const channels = (config.dvrChannels ?? []) as AnalogChannel[];
  if (channels.length === 0) return h('p', { class: 'help' }, 'Motion grid: no analog channel yet.');
  const pick = h('select', { name: 'motion-channel' }, ...channels.map((c, i) => h('option', { value: String(i) }, `${c.name} (${c.id})`)));
  const slot = h('div', {});
  let close = () => {};
  const show = () => {
    close();
    const i = Number(pick.value);
    const built = channelEditor(channels[i]!, i, reload);
    close = built.close;
    slot.replaceChildren(built.el);
  };
  pick.addEventListener('change', show);
  show();
  return h('section', { class: 'motion-editor' }, h('h3', {}, 'Motion grid'), h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Channel ', pick)), slot);
}

function channelEditor(c: AnalogChannel, index: number, reload: () => void): { el: HTMLElement; close: () => void } {
  // A cell detects at the slider's sensitivity unless masked (per-cell levels are a `dvr config set` matter).
  const masked = Array.from({ length: COLS * ROWS }, (_, k) => c.motion.cells?.[k] === 0);
  const video = h('video', { muted: '', autoplay: '', playsinline: '' });
  video.muted = true;
  const state = h('span', { class: 'state' });
  const player = new LivePlayer(video, `/api/v1/live/${encodeURIComponent(c.id)}/sub`, (s) => (state.textContent = s));
  player.start();
  const grid = h('div', { class: 'motion-grid', 'data-channel': c.id });
  const cells = masked.map((m, k) => h('div', { class: m ? 'cell masked' : 'cell', 'data-cell': String(k) }));
  grid.append(...cells);
  // Drag paints: the first cell decides whether this stroke masks or unmasks.
  let painting: boolean | null = null;
  const paint = (k: number) => {
    if (painting === null) return;
    masked[k] = painting;
    cells[k]!.classList.toggle('masked', painting);
  };
  grid.addEventListener('pointerdown', (e) => {
    const k = Number((e.target as HTMLElement).dataset.cell);
    if (!Number.isInteger(k)) return;
    e.preventDefault();
    painting = !masked[k];
    paint(k);
  });
  grid.addEventListener('pointerover', (e) => {
    const k = Number((e.target as HTMLElement).dataset.cell);
    if (Number.isInteger(k)) paint(k);
  });
  const stop = () => (painting = null);
  window.addEventListener('pointerup', stop);

  const sensitivity = h('input', { type: 'range', name: 'motion-sensitivity', min: '1', max: '100', value: String(c.motion.sensitivity) });
  const level = h('span', { class: 'level' }, String(c.motion.sensitivity));
  sensitivity.addEventListener('input', () => (level.textContent = sensitivity.value));
  const all = h('button', { type: 'button', 'data-motion': 'clear' }, 'Detect everywhere');
  all.addEventListener('click', () => masked.forEach((_, k) => ((masked[k] = false), cells[k]!.classList.remove('masked'))));
  const note = h('span', { class: 'note-inline', role: 'status' });
  const save = h('button', { type: 'button', 'data-motion': 'save' }, 'Save grid');
  save.addEventListener('click', () => {
    const s = Number(sensitivity.value);
    const value = {
      ...c.motion,
      sensitivity: s,
      cells: masked.some(Boolean) ? masked.map((m) => (m ? 0 : s)) : null,
    };
    note.className = 'note-inline saving';
    note.textContent = 'saving…';
    api('PATCH', '/api/v1/config', { path: `dvrChannels.${index}.motion`, value }).then(
      () => {
        note.className = 'note-inline ok';
        note.textContent = `saved: ${masked.filter(Boolean).length} of ${COLS * ROWS} cells masked`;
        setTimeout(reload, 800);
      },
      (e: Error) => {
        note.className = 'note-inline error';
        note.textContent = e.message;
      },
    );
  });
  const el = h(
    'div',
    {},
    h('div', { class: 'motion-picture' }, video, grid, state),
    h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Sensitivity ', sensitivity, level), all, save, note),
    h('p', { class: 'help' }, 'Drag over the picture to mask cells where motion must not count (trees, a road); drag again to unmask.'),
  );
  const close = () => {
    player.stop();
    window.removeEventListener('pointerup', stop);
    window.clearInterval(watch);
  };
  // Another tab replaces this one without telling it: the picture's socket closes once the editor is gone.
  const watch = window.setInterval(() => !el.isConnected && close(), 2000);
  return { el, close };
}
