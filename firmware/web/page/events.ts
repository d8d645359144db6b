// The event list: alarms, motion, tamper, video loss, camera, disk and
// storage events and linkage firings, newest first, filtered by type and
// channel; an event of a channel opens playback at that moment.
import { api, h, type Channel } from './ui.js';

interface JournalEvent {
  at: number;
  type: string;
  channel: string | null;
  active: boolean | null;
  text: string;
}

const TYPES = ['alarm', 'motion', 'tamper', 'videoLoss', 'camera', 'disk', 'storage', 'linkage'];

export function eventsView(channels: Channel[], show: (...n: Node[]) => void, openPlayback: (channel: Channel, atMs: number) => void): void {
  const type = h('select', { name: 'event-type' }, h('option', { value: '' }, 'all types'), ...TYPES.map((t) => h('option', { value: t }, t)));
  const channel = h('select', { name: 'event-channel' }, h('option', { value: '' }, 'all channels'), ...channels.map((c) => h('option', { value: c.id }, c.name)));
  const body = h('tbody');
  const note = h('p', { class: 'note' });
  const names = new Map(channels.map((c) => [c.id, c]));
  const load = async () => {
    const q = new URLSearchParams({ limit: '500' });
    if (type.value) q.append('type', type.value);
    if (channel.value) q.set('channel', channel.value);
    try {
      const { events } = await api<{ events: JournalEvent[] }>('GET', `/api/v1/events?${q}`);
      note.textContent = events.length ? '' : 'No event matches.';
      body.replaceChildren(
        ...events.map((e) => {
          const c = e.channel ? names.get(e.channel) : undefined;
          const play = h('button', { type: 'button', 'data-play': String(e.at) }, 'Play');
          play.addEventListener('click', () => c && openPlayback(c, e.at - 5000));
          return h('tr', { 'data-type': e.type }, h('td', {}, new Date(e.at).toLocaleString()), h('td', {}, e.type), h('td', {}, c?.name ?? e.channel ?? ''), h('td', {}, e.text), h('td', {}, c?.rights.includes('playback') ? play : ''));
        }),
      );
    } catch (e) {
      note.textContent = (e as Error).message;
    }
  };
  type.addEventListener('change', () => void load());
  channel.addEventListener('change', () => void load());
  const refresh = h('button', { type: 'button' }, 'Refresh');
  refresh.addEventListener('click', () => void load());
  show(
    h('div', { class: 'tools' }, type, channel, refresh),
    h('div', { class: 'settings-body admin' }, h('table', { id: 'events' }, h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Type'), h('th', {}, 'Channel'), h('th', {}, 'What'), h('th'))), body), note),
  );
  void load();
}
