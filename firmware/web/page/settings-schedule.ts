// The weekly recording schedule of a channel, as commercial recorders draw
// it: seven days down, 48 half hours across, painted by dragging with the
// chosen mode. Saved whole as `<section>.<i>.recording.schedule`; the box
// validates it like any other setting and its verdict is shown.
import type { SettingsEditor } from './settings-editors.js';
import { api, h } from './ui.js';

type Letter = 'C' | 'M' | 'A' | 'E' | '-';

const MODES: { letter: Letter; name: string }[] = [
  { letter: 'C', name: 'Continuous' },
  { letter: 'M', name: 'Motion' },
  { letter: 'A', name: 'Alarm' },
  { letter: 'E', name: 'Motion or alarm' },
  { letter: '-', name: 'None' },
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SLOTS = 48;

interface Schedule {
  days: string[];
  preSec: number;
  postSec: number;
}
interface ChannelItem {
  id: string;
  name?: string;
  recording?: { mode?: string; schedule?: Schedule | null };
}

const hhmm = (slot: number) => `${String(Math.floor(slot / 2)).padStart(2, '0')}:${slot % 2 ? '30' : '00'}`;

/** The grid a channel starts from: its schedule, or what its mode records all week. */
function gridOf(c: ChannelItem): Letter[][] {
  const s = c.recording?.schedule;
  if (s) return s.days.map((d) => [...d] as Letter[]);
  const fill: Letter = c.recording?.mode === 'off' ? '-' : c.recording?.mode === 'events' ? 'E' : 'C';
  return DAYS.map(() => Array.from({ length: SLOTS }, () => fill));
}

function numberInput(name: string, value: number, max: number): HTMLInputElement {
  const input = h('input', { type: 'number', name, min: '0', max: String(max), step: '1' });
  input.value = String(value);
  return input;
}

function scheduleEditor(section: 'channels' | 'dvrChannels'): SettingsEditor {
  return async (config) => {
    const channels = (config[section] as ChannelItem[] | undefined) ?? [];
    const box = h('section', { class: 'schedule-editor', 'data-section': section }, h('h3', {}, 'Recording schedule'));
    if (channels.length === 0) return (box.append(h('p', { class: 'help' }, 'Add a channel first: each channel has its own weekly schedule.')), box);
    let index = 0;
    let grid = gridOf(channels[0]!);
    let paint: Letter = 'C';
    const note = h('span', { class: 'note-inline', role: 'status' });

    const select = h('select', { name: 'schedule-channel' });
    channels.forEach((c, i) => select.append(h('option', { value: String(i) }, c.name ?? c.id)));
    const pre = numberInput('schedule-pre', channels[0]!.recording?.schedule?.preSec ?? 5, 60);
    const post = numberInput('schedule-post', channels[0]!.recording?.schedule?.postSec ?? 10, 600);

    const legend = MODES.map(({ letter, name }) => {
      const b = h('button', { type: 'button', 'data-paint': letter, 'aria-pressed': String(letter === paint) }, h('span', { class: `swatch slot-${letter === '-' ? 'none' : letter}` }), name);
      b.addEventListener('click', () => {
        paint = letter;
        for (const x of legend) x.setAttribute('aria-pressed', String(x === b));
      });
      return b;
    });

    const cells: HTMLElement[][] = [];
    const table = h('div', { class: 'schedule-grid' }, h('span', {}));
    for (let hour = 0; hour < 24; hour++) table.append(h('span', { class: 'hour' }, String(hour).padStart(2, '0')));
    DAYS.forEach((day, d) => {
      table.append(h('span', { class: 'day' }, day));
      cells[d] = [];
      for (let s = 0; s < SLOTS; s++) {
        const cell = h('span', { class: 'slot', 'data-day': String(d), 'data-slot': String(s), title: `${day} ${hhmm(s)}–${hhmm(s + 1)}` });
        cells[d]!.push(cell);
        table.append(cell);
      }
    });
    const draw = () => {
      grid.forEach((row, d) => row.forEach((letter, s) => (cells[d]![s]!.className = `slot slot-${letter === '-' ? 'none' : letter}`)));
    };
    const changed = () => {
      draw();
      note.className = 'note-inline';
      note.textContent = 'not saved yet';
    };

    // Pointer events and elementFromPoint rather than enter/leave, so a finger dragging on a touch screen paints too.
    let painting = false;
    let last: [number, number] | null = null;
    const paintAt = (x: number, y: number) => {
      const el = document.elementFromPoint(x, y);
      if (!(el instanceof HTMLElement) || !el.classList.contains('slot') || !table.contains(el)) return;
      const [d, s] = [Number(el.dataset.day), Number(el.dataset.slot)];
      // A quick drag skips cells between two pointer events: paint the line between them.
      const [d0, s0] = last ?? [d, s];
      const n = Math.max(Math.abs(d - d0), Math.abs(s - s0));
      let any = false;
      for (let k = 0; k <= n; k++) {
        const [dk, sk] = n === 0 ? [d, s] : [Math.round(d0 + ((d - d0) * k) / n), Math.round(s0 + ((s - s0) * k) / n)];
        if (grid[dk]![sk] === paint) continue;
        grid[dk]![sk] = paint;
        any = true;
      }
      last = [d, s];
      if (any) changed();
    };
    table.addEventListener('pointerdown', (e) => {
      painting = true;
      last = null;
      table.setPointerCapture(e.pointerId);
      paintAt(e.clientX, e.clientY);
      e.preventDefault();
    });
    table.addEventListener('pointermove', (e) => painting && paintAt(e.clientX, e.clientY));
    const stop = () => void (painting = false);
    table.addEventListener('pointerup', stop);
    table.addEventListener('pointercancel', stop);

    const button = (label: string, name: string, act: () => void) => {
      const b = h('button', { type: 'button', name }, label);
      b.addEventListener('click', act);
      return b;
    };
    const fill = (letter: Letter) => () => ((grid = DAYS.map(() => Array.from({ length: SLOTS }, () => letter))), changed());
    const copyMonday = () => {
      for (let d = 1; d < 5; d++) grid[d] = [...grid[0]!];
      changed();
    };

    const show = (i: number) => {
      index = i;
      const c = channels[i]!;
      grid = gridOf(c);
      pre.value = String(c.recording?.schedule?.preSec ?? 5);
      post.value = String(c.recording?.schedule?.postSec ?? 10);
      note.className = 'note-inline';
      note.textContent = c.recording?.schedule ? '' : `no schedule yet: recording mode "${c.recording?.mode ?? 'continuous'}" decides`;
      draw();
    };
    select.addEventListener('change', () => show(Number(select.value)));

    const save = async (value: Schedule | null) => {
      note.className = 'note-inline saving';
      note.textContent = 'saving…';
      try {
        await api('PATCH', '/api/v1/config', { path: `${section}.${index}.recording.schedule`, value });
        const c = channels[index]!;
        c.recording = { ...c.recording, schedule: value };
        note.className = 'note-inline saved';
        note.textContent = value ? 'saved' : 'schedule removed: the recording mode decides';
      } catch (e) {
        note.className = 'note-inline error';
        note.textContent = (e as Error).message;
      }
    };
    const saveButton = button('Save schedule', 'schedule-save', () => void save({ days: grid.map((row) => row.join('')), preSec: Number(pre.value), postSec: Number(post.value) }));
    saveButton.classList.add('primary');

    box.append(
      h('p', { class: 'help' }, "Days down, hours across in the box's time zone; drag over half hours to paint them with the chosen mode. Motion records from the pre-record before the channel's motion to the post-record after it; alarm takes the linkage rules with another trigger (inputs, camera events). Recording switched on by hand records in any half hour."),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Channel ', select), h('label', { class: 'inline' }, 'Motion pre-record (s) ', pre), h('label', { class: 'inline' }, 'post-record (s) ', post)),
      h('div', { class: 'row legend' }, ...legend),
      table,
      h(
        'div',
        { class: 'row' },
        button('All continuous', 'schedule-all', fill('C')),
        button('Clear', 'schedule-clear', fill('-')),
        button('Copy Monday to weekdays', 'schedule-copy', copyMonday),
        saveButton,
        button('No schedule', 'schedule-none', () => void save(null)),
        note,
      ),
    );
    show(0);
    return box;
  };
}

export const channelSchedule = scheduleEditor('channels');
export const dvrChannelSchedule = scheduleEditor('dvrChannels');
