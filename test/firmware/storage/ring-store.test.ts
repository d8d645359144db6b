import t from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame } from '../../../firmware/media/types.js';
import { AAC, H264, captureEvents, frame, makeDisks, readAll, storeWith } from './helpers.js';

// Real disks on a shared machine: fdatasync can be slow, so allow more than the runner's default.
t.setTimeout(300_000);

const T0 = Date.UTC(2026, 0, 1) * 1000;

t.test('frames of several streams round-trip bit-exact across blocks and disks', async (t) => {
  const d = makeDisks(2);
  t.teardown(d.cleanup);
  t.comment(`disks: ${d.kind}`);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 10));
  const { store, bus } = storeWith(d.disks.map((x) => x.path), { clock, format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 40, reserveBytes: 0 } });
  const states = captureEvents(bus, 'diskState');
  await store.start();
  t.same(states.map((s) => s.state), ['ok', 'ok'], 'both disks formatted and ok');
  store.setStreamInfo('cam1', 'main', H264);
  store.setStreamInfo('cam1', 'audio', AAC);
  const main: Frame[] = [];
  const audio: Frame[] = [];
  for (let i = 0; i < 600; i++) {
    const f = frame('cam1-main', i, T0);
    main.push(f);
    if (!store.append('cam1', 'main', f)) t.fail('frame refused');
    if (i % 2 === 0) {
      const a = { time: T0 + i * 40_000 + 5, keyframe: true, data: frame('cam1-audio', i, 0, { size: 300 }).data };
      audio.push(a);
      store.append('cam1', 'audio', a);
    }
  }
  await store.flush();
  const blocks = store.blocks();
  t.ok(blocks.filter((b) => b.stream === 'main').length > 3, 'main spans several blocks');
  t.same(new Set(blocks.map((b) => b.disk)), new Set(['d0', 'd1']), 'blocks on both disks (round-robin)');

  const back = await readAll(store, 'cam1', 'main');
  t.equal(back.length, main.length, 'every frame back');
  t.ok(back.every((f, i) => f.time === main[i]!.time && f.keyframe === main[i]!.keyframe && Buffer.compare(f.data, main[i]!.data) === 0), 'bit-exact, in order');
  const aback = await readAll(store, 'cam1', 'audio');
  t.ok(aback.length === audio.length && aback.every((f, i) => Buffer.compare(f.data, audio[i]!.data) === 0), 'audio bit-exact');

  // Stream info comes with the frames.
  const chunks = [];
  for await (const c of store.cursor({ channel: 'cam1', stream: 'main', from: T0 })) chunks.push(c);
  t.equal(chunks[0]!.info.codec, 'h264');
  t.same([...chunks[0]!.info.config], [...H264.config], 'decoder config round-trips');
  t.equal(chunks[0]!.info.width, 1920);

  // Restart: everything is still there.
  await store.stop();
  const again = storeWith(d.disks.map((x) => x.path), { clock });
  await again.store.start();
  const after = await readAll(again.store, 'cam1', 'main');
  t.equal(after.length, main.length, 'all frames after restart');
  t.ok(after.every((f, i) => Buffer.compare(f.data, main[i]!.data) === 0), 'still bit-exact');
  await again.store.stop();
});

t.test('cursor starts at the keyframe before the asked time; keyframes-only mode; range end', async (t) => {
  const d = makeDisks(1);
  t.teardown(d.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 10));
  const { store } = storeWith([d.disks[0]!.path], { clock });
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const frames = Array.from({ length: 500 }, (_, i) => frame('c', i, T0));
  for (const f of frames) store.append('c', 'main', f);
  await store.flush();
  const at = frames[137]!.time + 10;
  const got = await readAll(store, 'c', 'main', at, frames[260]!.time);
  t.equal(got[0]!.time, frames[125]!.time, 'starts at the preceding keyframe (frame 125)');
  t.ok(got[0]!.keyframe);
  t.equal(got[got.length - 1]!.time, frames[260]!.time, 'stops at the end of the range');
  const keys = await readAll(store, 'c', 'main', T0, undefined, true);
  t.equal(keys.length, 20, 'one keyframe per 25 frames');
  t.ok(keys.every((f) => f.keyframe));
  t.ok(keys.every((f, i) => Buffer.compare(f.data, frames[i * 25]!.data) === 0), 'keyframes bit-exact');
  const before = await readAll(store, 'c', 'main', T0 - 10_000_000, T0 + 100_000);
  t.equal(before[0]!.time, T0, 'asking before the recording starts at its first frame');
  t.same(await readAll(store, 'c', 'main', T0 + 3600e6), [], 'asking after the end yields nothing');
  await store.stop();
});

t.test('timeline lists segments and gaps; a gap starts a new block', async (t) => {
  const d = makeDisks(1);
  t.teardown(d.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 1));
  const { store } = storeWith([d.disks[0]!.path], { clock });
  await store.start();
  store.setStreamInfo('c', 'sub', H264);
  for (let i = 0; i < 100; i++) store.append('c', 'sub', frame('c', i, T0, { size: 200 }));
  const resume = T0 + 60_000_000; // one minute later
  for (let i = 0; i < 100; i++) store.append('c', 'sub', frame('c', i, resume, { size: 200 }));
  await store.flush();
  const tl = store.timeline('c', 'sub', T0 - 1_000_000, resume + 10_000_000);
  t.equal(tl.segments.length, 2, 'two segments');
  t.equal(tl.segments[0]!.start, T0);
  t.equal(tl.segments[1]!.start, resume);
  t.equal(tl.gaps.length, 3, 'gap before, between and after');
  t.equal(tl.gaps[1]!.start, tl.segments[0]!.end);
  t.equal(tl.gaps[1]!.end, resume);
  await store.stop();
});

t.test('camera clock jumping backwards or far ahead is restamped with a clear log line', async (t) => {
  const d = makeDisks(1);
  t.teardown(d.cleanup);
  const now = Date.UTC(2026, 0, 1, 0, 10);
  const clock = new ManualClock(now);
  const { store, log } = storeWith([d.disks[0]!.path], { clock });
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  const base = now * 1000 - 10_000_000;
  for (let i = 0; i < 50; i++) store.append('c', 'main', frame('c', i, base));
  // Camera clock reset to 2000-01-01.
  const reset = Date.UTC(2000, 0, 1) * 1000;
  for (let i = 50; i < 100; i++) store.append('c', 'main', frame('c', i, reset - 50 * 40_000));
  // Then jumps a year ahead.
  const ahead = (now + 365 * 86400_000) * 1000;
  for (let i = 100; i < 150; i++) store.append('c', 'main', frame('c', i, ahead - 100 * 40_000));
  await store.flush();
  const got = await readAll(store, 'c', 'main');
  t.equal(got.length, 150, 'no frame lost');
  t.ok(got.every((f, i) => i === 0 || f.time >= got[i - 1]!.time), 'stored times never go backwards');
  t.ok(got[149]!.time <= (now + 60_000) * 1000 + 10_000_000, 'nothing stored far in the future');
  const warnings = log.ring.tail(100, 'warn').map((r) => r.msg);
  t.ok(warnings.some((m) => /went backwards by \d+/.test(m)), 'backwards jump logged');
  t.ok(warnings.some((m) => /ahead of the recorder clock/.test(m)), 'forward jump logged');
  t.equal(store.writerStats()['c/main']!.restamped, 100);
  await store.stop();
});

t.test('bad input: no stream info, empty frame, bad channel name, oversize frame', async (t) => {
  const d = makeDisks(1);
  t.teardown(d.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 10));
  const { store, log } = storeWith([d.disks[0]!.path], { clock });
  await store.start();
  t.throws(() => store.append('x', 'main', frame('x', 0, T0)), /setStreamInfo\(\) before the first frame/);
  t.throws(() => store.setStreamInfo('', 'main', H264), /1\.\.63 bytes/);
  store.setStreamInfo('x', 'main', H264);
  t.throws(() => store.append('x', 'main', { time: T0, keyframe: true, data: new Uint8Array(0) }), /empty frame/);
  t.throws(() => store.append('x', 'main', { time: 1.5, keyframe: true, data: new Uint8Array(1) }), /integer µs/);
  store.append('x', 'main', { time: T0, keyframe: true, data: new Uint8Array(300 * 1024) });
  store.append('x', 'main', frame('x', 1, T0));
  await store.flush();
  t.ok(log.ring.tail(50, 'error').some((r) => /larger than a whole block/.test(r.msg)), 'oversize frame logged');
  const got = await readAll(store, 'x', 'main');
  t.equal(got.length, 1, 'the store kept recording the next frame');
  await store.stop();
});

t.test('a new stream description starts a new block and comes with its frames', async (t) => {
  const d = makeDisks(1);
  t.teardown(d.cleanup);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 10));
  const { store } = storeWith([d.disks[0]!.path], { clock });
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  for (let i = 0; i < 50; i++) store.append('c', 'main', frame('c', i, T0));
  const hd = { ...H264, width: 2560, height: 1440, config: Uint8Array.from([1, 2, 3]) };
  store.setStreamInfo('c', 'main', { ...H264 }); // same content: no new block
  store.setStreamInfo('c', 'main', hd);
  for (let i = 50; i < 100; i++) store.append('c', 'main', frame('c', i, T0));
  await store.flush();
  t.equal(store.blocks().length, 2, 'two blocks');
  const chunks = [];
  for await (const c of store.cursor({ channel: 'c', stream: 'main', from: T0 })) chunks.push(c);
  const widths = chunks.map((c) => c.info.width);
  t.same([...new Set(widths)], [1920, 2560], 'the description changes between chunks');
  const split = chunks.findIndex((c) => c.info.width === 2560);
  t.equal(chunks.slice(0, split).reduce((n, c) => n + c.frames.length, 0), 50, 'old frames with the old description');
  t.same([...chunks[split]!.info.config], [1, 2, 3]);
  await store.stop();
});
