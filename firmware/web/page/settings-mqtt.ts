// The MQTT tab's "Test connection": the fields below save as they change, so
// the test tries what is saved, and says what the broker answered.
import { api, h } from './ui.js';

type Check = { ok: true; ms: number; url: string } | { ok: false; error: string; url: string };

export async function mqttTestEditor(): Promise<HTMLElement> {
  const note = h('span', { class: 'note-inline', id: 'mqtt-test-result', role: 'status' });
  const button = h('button', { type: 'button', id: 'mqtt-test' }, 'Test connection');
  button.addEventListener('click', () => {
    note.className = 'note-inline saving';
    note.textContent = 'connecting…';
    api<Check>('POST', '/api/v1/mqtt/test', {}).then(
      (r) => {
        note.className = `note-inline ${r.ok ? 'ok' : 'error'}`;
        note.textContent = r.ok ? `connected to ${r.url} in ${r.ms} ms` : `${r.url}: ${r.error}`;
      },
      (e: Error) => {
        note.className = 'note-inline error';
        note.textContent = e.message;
      },
    );
  });
  return h('div', { class: 'row' }, button, note);
}
