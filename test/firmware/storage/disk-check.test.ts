/**
 * checkDisk (`dvr disk check`) against each kind of damage it must name:
 * no header, another store's header, a torn catalog, a missing block file,
 * a block header of another block or generation, a catalog that disagrees
 * with the index. Read-only: the files are byte-identical afterwards.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkDisk } from '../../../firmware/storage/disk-check.js';
import { blockPath, CATALOG_FILE, HEADER_FILE } from '../../../firmware/storage/disk.js';
import { encodeCatalogRecord } from '../../../firmware/storage/format.js';
import { H264, frame, makeDisks, storeWith } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1) * 1000;

async function recorded(t: { teardown(f: () => void): void; comment(s: string): void }) {
  const d = makeDisks(1, 16, 'check');
  t.teardown(d.cleanup);
  t.comment(`disks: ${d.kind}`);
  const { store } = storeWith([d.disks[0]!.path], { format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 8, reserveBytes: 0 } });
  await store.start();
  store.setStreamInfo('c', 'main', H264);
  for (let i = 0; i < 300; i++) store.append('c', 'main', frame('c', i, T0, { size: 3000 }));
  await store.closeStream('c', 'main');
  const blocks = store.blocks();
  const id = store.id()!;
  await store.stop();
  return { root: d.disks[0]!.path, blocks, id };
}

const snapshot = (root: string) =>
  createHash('sha256').update(readdirSync(join(root, 'blocks')).map((f) => readFileSync(join(root, 'blocks', f)).toString('hex')).join() + readFileSync(join(root, CATALOG_FILE)).toString('hex')).digest('hex');

t.test('a healthy disk checks clean and is not written', async (t) => {
  const { root, id } = await recorded(t);
  const before = snapshot(root);
  const r = await checkDisk(root, { storeId: id });
  t.match(r, { ok: true, blocks: 8, problems: [] });
  t.ok(r.sealed >= 2 && r.indexRecords === 300);
  t.equal(snapshot(root), before, 'read-only');
  t.match(await checkDisk(root, { storeId: 'f'.repeat(32) }), { ok: false, problems: [/belongs to store/] });
});

t.test('each kind of damage is named', async (t) => {
  const { root, blocks } = await recorded(t);
  const [b0, b1] = blocks.filter((b) => b.state === 'sealed');
  // Block header of b0 overwritten with b1's: wrong block number.
  const h1 = readFileSync(blockPath(root, b1!.block)).subarray(0, 4096);
  const fd = openSync(blockPath(root, b0!.block), 'r+');
  writeSync(fd, h1, 0, h1.length, 0);
  closeSync(fd);
  rmSync(blockPath(root, 7));
  // A catalog record that claims more frames than b1 holds, then a torn tail.
  const rec = { blockNo: b1!.block, generation: b1!.generation, state: 'sealed' as const, channel: 'c', stream: 'main' as const, start: b1!.start, end: b1!.end + 5, frames: b1!.frames, bytes: 1, flags: 1 };
  appendFileSync(join(root, CATALOG_FILE), Buffer.concat([encodeCatalogRecord(rec), Buffer.from([1, 2, 3])]));
  const r = await checkDisk(root, { maxProblems: 4 });
  t.equal(r.ok, false);
  t.match(r.problems.join('\n'), /catalog: damaged at byte/);
  t.match(r.problems.join('\n'), new RegExp(`block ${b0!.block}: header says block ${b1!.block}`));
  t.match(r.problems.join('\n'), new RegExp(`block ${b1!.block}: catalog says 1 bytes`));
  t.ok(r.moreProblems >= 1, 'beyond maxProblems only counted');
  const all = await checkDisk(root);
  t.match(all.problems.join('\n'), /block 7: file missing/);
  t.match(all.problems.join('\n'), new RegExp(`block ${b1!.block}: catalog says ${b1!.start}\\.\\.${b1!.end + 5}`));
});

t.test('a generation mismatch, no catalog, no header', async (t) => {
  const { root, blocks } = await recorded(t);
  const b = blocks.find((x) => x.state === 'sealed')!;
  appendFileSync(join(root, CATALOG_FILE), encodeCatalogRecord({ blockNo: b.block, generation: b.generation + 1, state: 'sealed', channel: 'c', stream: 'main', start: b.start, end: b.end, frames: b.frames, bytes: 0, flags: 1 }));
  t.match((await checkDisk(root)).problems, [new RegExp(`block ${b.block}: header generation ${b.generation}, catalog ${b.generation + 1}`)]);
  rmSync(join(root, CATALOG_FILE));
  t.match((await checkDisk(root)).problems, [/catalog: ENOENT/]);
  rmSync(join(root, HEADER_FILE));
  t.match(await checkDisk(root), { ok: false, problems: [/store header: ENOENT/] });
});
