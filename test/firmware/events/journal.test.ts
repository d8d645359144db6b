import t from 'tap';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../firmware/core/bus.js';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { EventJournal } from '../../../firmware/events/journal.js';

const T = Date.UTC(2026, 11, 4, 10, 0, 0);

t.test('bus events become journal records, queried by time, type and channel, kept across a restart', async (t) => {
  const dir = t.testdir();
  const clock = new ManualClock(T);
  const bus = new EventBus();
  const j = new EventJournal({ bus, clock, log: memoryLogger(), dir });
  await j.start();
  bus.emit('motion', { channel: 'cam1', active: true, at: T + 1000, cells: 12 });
  bus.emit('motion', { channel: 'cam1', active: false, at: T + 5000 });
  bus.emit('videoLoss', { channel: 'cam2', lost: true, at: T + 6000 });
  bus.emit('alarm', { source: 'gpio', input: 'door', active: true, at: T + 7000 });
  bus.emit('serviceState', { service: 'web', state: 'running', at: T + 8000 });
  t.same(j.query().map((e) => [e.type, e.channel, e.active]), [['alarm', null, true], ['videoLoss', 'cam2', true], ['motion', 'cam1', false], ['motion', 'cam1', true]], 'newest first; service states are not events of the list');
  t.match(j.query({ types: ['motion'] })[1], { text: 'motion (12 cells)', at: T + 1000 });
  t.same(j.query({ channels: ['cam1'], boxEvents: false }).map((e) => e.channel), ['cam1', 'cam1'], 'one channel only');
  t.same(j.query({ channels: ['cam1'] }).map((e) => e.type), ['alarm', 'motion', 'motion'], "a channel's events and the box's own");
  t.same(j.query({ channels: [] , boxEvents: true }).map((e) => e.type), ['alarm'], 'no channel rights: the box events only');
  t.same(j.query({ from: T + 5500, to: T + 6500 }).map((e) => e.type), ['videoLoss'], 'a time window');
  await clock.advance(1000);
  await j.stop();
  t.equal(readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').length, 4, 'on disk, a line each');
  appendFileSync(join(dir, 'events.jsonl'), '{"at":1,"type":"mot'); // a power cut mid-append

  const again = new EventJournal({ bus, clock, log: memoryLogger(), dir });
  await again.start();
  t.equal(again.query().length, 4, 'read back after a restart; the torn line skipped');
  await again.stop();
});

t.test('the file rotates once at its size bound', async (t) => {
  const dir = t.testdir();
  const clock = new ManualClock(T);
  const bus = new EventBus();
  const j = new EventJournal({ bus, clock, log: memoryLogger(), dir, maxFileBytes: 2000 });
  await j.start();
  for (let i = 0; i < 60; i++) {
    bus.emit('tamper', { channel: 'cam1', active: i % 2 === 0, at: T + i });
    await clock.advance(1000);
  }
  await j.stop();
  const current = readFileSync(join(dir, 'events.jsonl'), 'utf8');
  const old = readFileSync(join(dir, 'events.1.jsonl'), 'utf8');
  t.ok(current.length <= 2000 && old.length <= 2000, `both files within the bound (${current.length}, ${old.length} bytes)`);
  t.equal(j.query({ limit: 5000 }).length, 60, 'memory still holds them all');
});

t.test('an RS-485 I/O module going offline and back is in the list; its first answer is not', async (t) => {
  const clock = new ManualClock(T);
  const bus = new EventBus();
  const j = new EventJournal({ bus, clock, log: memoryLogger(), dir: t.testdir() });
  await j.start();
  t.teardown(() => j.stop());
  const m = { module: 'io1', bus: 'bus1', address: 2 };
  bus.emit('alarmModuleState', { ...m, state: 'online', previous: null, at: T + 1 });
  bus.emit('alarmModuleState', { ...m, state: 'offline', previous: 'online', at: T + 2, detail: 'no reply within 200 ms' });
  bus.emit('alarmModuleState', { ...m, state: 'online', previous: 'offline', at: T + 3 });
  t.same(
    j.query().map((e) => [e.type, e.active, e.text]),
    [
      ['alarm', false, 'I/O module io1 (address 2 on bus1) online'],
      ['alarm', true, 'I/O module io1 (address 2 on bus1) offline: no reply within 200 ms'],
    ],
  );
});
