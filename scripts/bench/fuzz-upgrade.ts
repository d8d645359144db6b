/**
 * Fuzzing of what reads an uploaded firmware bundle before anything is
 * trusted: the bundle header (magic, manifest, signature lines) and the
 * payload's file archive, with ≥100,000 cases per property
 * (test/firmware/upgrade/fuzz.test.ts runs the same with a few thousand):
 *
 *   node dist/scripts/bench/fuzz-upgrade.js [runs=100000] [name-filter]
 *
 * Exits non-zero on a counterexample, printing fast-check's report (with the
 * seed to replay it).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { ARCHIVE_END, ArchiveReader, entryHeader, pathProblem, S_IFREG, type ArchiveEvent } from '../../firmware/upgrade/archive.js';
import { BundleHeaderReader, checkSignature, headerBytes, PRODUCT, type Manifest } from '../../firmware/upgrade/bundle.js';
import { UpgradeError } from '../../firmware/upgrade/errors.js';
import { chunked, expectOnly, isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const LIMITS = { maxFiles: 50, maxBytes: 4096 };
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** Reads chunks to the end; every event sequence it gives is well formed (sizes add up, paths are safe). */
function readAll(chunks: Uint8Array[]): { files: { path: string; mode: number; bytes: Buffer }[]; ended: boolean } {
  const reader = new ArchiveReader(LIMITS);
  const files: { path: string; mode: number; bytes: Buffer; size: number; parts: Buffer[] }[] = [];
  let open = false;
  let ended = false;
  const take = (ev: ArchiveEvent) => {
    assert.ok(!ended, 'nothing after the end');
    if (ev.kind === 'file') {
      assert.ok(!open);
      assert.equal(pathProblem(ev.path), null, 'only safe paths come out');
      files.push({ path: ev.path, mode: ev.mode, size: ev.size, bytes: Buffer.alloc(0), parts: [] });
      open = true;
    } else if (ev.kind === 'data') {
      assert.ok(open);
      files.at(-1)!.parts.push(Buffer.from(ev.bytes));
    } else if (ev.kind === 'file-end') {
      const f = files.at(-1)!;
      f.bytes = Buffer.concat(f.parts);
      assert.equal(f.bytes.length, f.size, 'a file has exactly its size');
      open = false;
    } else ended = true;
  };
  for (const c of chunks) for (const ev of reader.push(c)) take(ev);
  reader.end();
  return { files: files.map(({ path, mode, bytes }) => ({ path, mode, bytes })), ended };
}

const segment = fc.stringMatching(/^[A-Za-z0-9 ._ü-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const safePath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
/** Paths an attacker would try, beside good ones. */
const anyPath = fc.oneof(safePath, fc.constantFrom('/etc/passwd', '../x', 'a/../../b', 'a//b', './a', 'a/.', '', 'a\\b', 'a\0b'), fc.string({ maxLength: 20 }));
const entry = fc.record({ path: safePath, mode: fc.integer({ min: 0, max: 0o777 }), bytes: fc.uint8Array({ maxLength: 200 }) });

function archive(entries: { path: string; mode: number; bytes: Uint8Array }[]): Buffer {
  return Buffer.concat([...entries.flatMap((e) => [entryHeader(e.path, S_IFREG | e.mode, e.bytes.length), Buffer.from(e.bytes)]), ARCHIVE_END]);
}

function manifest(version: string, size: number): Manifest {
  return { product: PRODUCT, version, boards: ['sim'], created: '2026-12-05T00:00:00.000Z', payload: { size, sha256: 'ab'.repeat(32) } };
}

export const upgradeProperties: NamedProperty<fc.IProperty<any>>[] = [
  {
    name: 'archive: arbitrary bytes in arbitrary chunks → files with safe paths, or UpgradeError',
    property: fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (raw, cuts) => {
      expectOnly(UpgradeError, () => readAll(chunked(raw, cuts)));
    }),
  },
  {
    name: 'archive: written entries read back the same, however the bytes arrive',
    property: fc.property(fc.uniqueArray(entry, { maxLength: 8, selector: (e) => e.path }), fc.array(fc.nat(), { maxLength: 10 }), (entries, cuts) => {
      const total = entries.reduce((n, e) => n + e.bytes.length, 0);
      fc.pre(total <= LIMITS.maxBytes);
      const r = readAll(chunked(archive(entries), cuts));
      assert.ok(r.ended);
      assert.deepEqual(r.files, entries.map((e) => ({ path: e.path, mode: e.mode, bytes: Buffer.from(e.bytes) })));
    }),
  },
  {
    name: 'archive: an entry with a hostile path or a non-file mode is refused, never read out',
    property: fc.property(anyPath, fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 20 }), (path, mode, bytes) => {
      fc.pre(Buffer.byteLength(path) >= 1 && Buffer.byteLength(path) <= 1024);
      const data = Buffer.concat([entryHeader(path, mode, bytes.length), bytes, ARCHIVE_END]);
      const safe = pathProblem(path) === null && (mode & 0o170000) === S_IFREG;
      try {
        const r = readAll([data]);
        assert.ok(safe, `read out ${JSON.stringify(path)} mode ${mode.toString(8)}`);
        assert.equal(r.files[0]!.path, path);
      } catch (e) {
        if (!(e instanceof UpgradeError)) throw e;
        assert.ok(!safe, `refused a safe entry: ${e.message}`);
      }
    }),
  },
  {
    name: 'archive: a truncated archive is an UpgradeError',
    property: fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), fc.nat(), (entries, cut) => {
      const data = archive(entries);
      assert.throws(() => readAll([data.subarray(0, cut % data.length)]), UpgradeError);
    }),
  },
  {
    name: 'header: arbitrary bytes after the magic → a header, waiting, or UpgradeError',
    property: fc.property(fc.boolean(), fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 6 }), (magic, raw, cuts) => {
      const data = magic ? Buffer.concat([Buffer.from('DVR-FIRMWARE-BUNDLE 1\n'), raw]) : Buffer.from(raw);
      const reader = new BundleHeaderReader();
      expectOnly(UpgradeError, () => {
        for (const c of chunked(data, cuts)) if (reader.push(c)) break;
      });
    }),
  },
  {
    name: 'header: a signed header read in any chunks gives the same manifest and payload start',
    property: fc.property(fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)), fc.uint8Array({ maxLength: 50 }), fc.array(fc.nat(), { maxLength: 8 }), (v, payload, cuts) => {
      const m = manifest(v.join('.'), 1 + payload.length);
      const data = Buffer.concat([headerBytes(m, privateKey), payload]);
      const reader = new BundleHeaderReader();
      let got: ReturnType<BundleHeaderReader['push']> = null;
      const rest: Buffer[] = [];
      for (const c of chunked(data, cuts)) {
        if (got) rest.push(Buffer.from(c));
        else if ((got = reader.push(c))) rest.push(got.rest);
      }
      assert.ok(got);
      assert.deepEqual(got.header.manifest, m);
      checkSignature(got.header, [publicKey]);
      assert.deepEqual(Buffer.concat(rest), Buffer.from(payload));
    }),
  },
  {
    name: 'header: any byte changed in the magic or manifest is refused',
    property: fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, flip) => {
      const bytes = headerBytes(manifest('1.2.3', 10), privateKey);
      const signedEnd = bytes.indexOf(0x0a, 22);
      bytes[at % signedEnd]! ^= flip;
      assert.throws(() => {
        const r = new BundleHeaderReader().push(bytes);
        if (!r) throw new UpgradeError('waiting for more');
        checkSignature(r.header, [publicKey]);
      }, UpgradeError);
    }),
  },
];

// process.exit rather than exitCode: nothing left running may hold the process open.
if (isMain(import.meta.url)) process.exit((await runFuzz('fuzz-upgrade', upgradeProperties)) ? 0 : 1);
