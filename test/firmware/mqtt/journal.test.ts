import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { EventJournal } from '../../../firmware/mqtt/journal.js';

function journal(file = join(mkdtempSync(join(tmpdir(), 'journal-')), 'queue.jsonl'), limit = 100) {
  const clock = new ManualClock();
  const log = memoryLogger('mqtt');
  return { file, clock, log, j: new EventJournal<{ n: number }>({ file, limit, clock, log, flushMs: 50, reserveBlock: 1000 }) };
}

t.test('undelivered events survive a reopen, in order, with their ids; delivered ones do not', async (t) => {
  const { file, j, clock } = journal();
  await j.open();
  const recs = Array.from({ length: 10 }, (_, n) => j.append({ n }));
  for (const r of recs.slice(0, 4)) j.ack(r.seq);
  await clock.advance(50);
  await j.close();
  const again = journal(file).j;
  t.match(await again.open(), { recovered: 6, tornTail: false, corruptLines: 0 });
  const got = [];
  for (let r = again.next(0); r; r = again.next(r.seq)) got.push(r);
  t.same(got.map((r) => r.data.n), [4, 5, 6, 7, 8, 9]);
  t.same(got.map((r) => r.id), recs.slice(4).map((r) => r.id), 'same ids: a redelivery is recognisable');
  const fresh = again.append({ n: 10 });
  t.ok(fresh.seq > recs[9].seq, 'sequence continues above everything issued before');
  await again.close();
});

t.test('events delivered before the flush never reach the disk', async (t) => {
  const { file, j, clock } = journal();
  await j.open();
  const size = readFileSync(file).length;
  for (let n = 0; n < 50; n++) j.ack(j.append({ n }).seq);
  await clock.advance(200);
  await j.close();
  t.equal(readFileSync(file).length, size, 'nothing appended');
});

t.test('a torn last line and a corrupt line are skipped, the rest recovered', async (t) => {
  const { file, j, clock } = journal();
  await j.open();
  for (let n = 0; n < 5; n++) j.append({ n });
  await clock.advance(50);
  await j.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.splice(2, 0, '{"s":garbage');
  writeFileSync(file, lines.join('\n'));
  appendFileSync(file, '{"s":99,"i":"torn","d":{"n"');
  const again = journal(file).j;
  t.match(await again.open(), { recovered: 5, tornTail: true, corruptLines: 1 });
  t.equal(again.size, 5);
  t.notMatch(readFileSync(file, 'utf8'), /torn|garbage/, 'compacted on open');
  await again.close();
});

t.test('a sequence number is never issued twice, even when the tail of the file was lost', async (t) => {
  const { file, j, clock } = journal();
  await j.open();
  let last = 0;
  for (let n = 0; n < 1500; n++) {
    const r = j.append({ n });
    j.ack(r.seq);
    last = r.seq;
  }
  await clock.advance(50);
  // A crash: nothing closed, whatever was not flushed is gone.
  const again = journal(file).j;
  await again.open();
  t.ok(again.append({ n: 0 }).seq > last, 'above the last issued before the crash');
  await again.close();
  await j.close();
});

t.test('bounded: the oldest are dropped, counted and logged once', async (t) => {
  const { j, log, clock } = journal(undefined, 100);
  await j.open();
  for (let n = 0; n < 350; n++) j.append({ n });
  t.equal(j.size, 100);
  t.equal(j.dropped, 250);
  t.equal(j.next(0)?.data.n, 250, 'the newest kept');
  const warns = log.ring.tail().filter((r) => r.level === 'warn');
  t.equal(warns.length, 1, 'one warning, not 250');
  t.match(warns[0], { msg: /dropped the oldest/, limit: 100 });
  await clock.advance(10_000);
  j.append({ n: 350 });
  t.match(log.ring.tail().at(-1), { dropped: 250, droppedTotal: 251 }, 'the next warning counts what was dropped meanwhile');
  await j.close();
});

t.test('the file is compacted while events come and go', async (t) => {
  const { file, j, clock } = journal(undefined, 10_000);
  await j.open();
  for (let round = 0; round < 30; round++) {
    const recs = Array.from({ length: 200 }, (_, n) => j.append({ n }));
    await clock.advance(50);
    for (const r of recs) j.ack(r.seq);
    await clock.advance(50);
  }
  const keep = j.append({ n: -1 });
  await clock.advance(50);
  await j.close();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.ok(lines.length < 3000, `${lines.length} lines after 6,000 events written and delivered`);
  const again = journal(file).j;
  await again.open();
  t.same(again.next(0)?.id, keep.id);
  t.equal(again.size, 1);
  await again.close();
});
