import t from 'tap';
import { messagesFor } from '../../../firmware/mqtt/messages.js';
import { Topics } from '../../../firmware/mqtt/topics.js';

const topics = new Topics('dvr', 'shop', 'homeassistant');
const at = Date.parse('2026-11-23T12:00:00Z');

t.test("a linkage rule's MQTT action: retained ON/OFF on its own topic, and the event stream", async (t) => {
  const data = { type: 'linkageMessage' as const, topic: 'linkage/door', rule: 'door', name: 'Back door', trigger: 'alarm', subject: 'door1', active: true, at };
  const [event, state] = messagesFor({ seq: 7, id: 'e7', data }, topics);
  t.equal(event.topic, 'dvr/shop/events');
  t.equal(event.retain, false);
  t.match(JSON.parse(event.payload), { type: 'linkageMessage', rule: 'door', active: true, seq: 7, time: '2026-11-23T12:00:00.000Z' });
  t.equal(state.topic, 'dvr/shop/linkage/door');
  t.equal(state.retain, true);
  t.same(JSON.parse(state.payload), { state: 'ON', rule: 'door', name: 'Back door', trigger: 'alarm', subject: 'door1', id: 'e7', seq: 7, time: '2026-11-23T12:00:00.000Z', at });
  const [, off] = messagesFor({ seq: 8, id: 'e8', data: { ...data, active: false } }, topics);
  t.equal(JSON.parse(off.payload).state, 'OFF');
});
