/**
 * Making bundles: a directory (or any list of entries) packed, gzipped and
 * hashed to a file in one streaming pass, then the signed header and the
 * payload written together. Used by scripts/firmware-bundle.ts and the tests.
 */
import { createPublicKey, createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ARCHIVE_END, entryHeader, S_IFREG } from './archive.js';
import { headerBytes, manifestSchema, PRODUCT, type Manifest } from './bundle.js';

export interface PackEntry {
  path: string;
  /** The full st_mode written as is (tests write symlinks and devices to see them refused). */
  mode: number;
  /** A file to read, or the bytes themselves. */
  from: string | Uint8Array;
}

/**
 * The regular files under dir, sorted, as entries. Anything else (symlinks,
 * such as node_modules/.bin, sockets, devices) is left out and named to
 * `skipped`, since a slot holds only plain files.
 */
export async function* directoryEntries(dir: string, skipped: (path: string) => void = () => {}, prefix = ''): AsyncGenerator<PackEntry> {
  const names = (await readdir(join(dir, prefix))).sort();
  for (const name of names) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = await lstat(join(dir, rel));
    if (st.isDirectory()) yield* directoryEntries(dir, skipped, rel);
    else if (st.isFile()) yield { path: rel, mode: S_IFREG | (st.mode & 0o777), from: join(dir, rel) };
    else skipped(rel);
  }
}

async function* archiveBytes(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): AsyncGenerator<Uint8Array> {
  for await (const e of entries) {
    if (typeof e.from === 'string') {
      // The size comes from the same open file the bytes do, so a file growing meanwhile cannot desync the archive.
      const fh = await open(e.from, 'r');
      try {
        const size = (await fh.stat()).size;
        yield entryHeader(e.path, e.mode, size);
        let left = size;
        for await (const chunk of fh.createReadStream({ start: 0, end: Math.max(0, size - 1), autoClose: false }) as AsyncIterable<Buffer>) {
          if (size === 0) break;
          left -= chunk.length;
          yield chunk;
        }
        if (left !== 0) throw new Error(`${e.path} changed size while being packed`);
      } finally {
        await fh.close();
      }
    } else {
      yield entryHeader(e.path, e.mode, e.from.length);
      yield e.from;
    }
  }
  yield ARCHIVE_END;
}

export interface BundleOptions {
  entries: AsyncIterable<PackEntry> | Iterable<PackEntry>;
  version: string;
  boards: string[];
  privateKey: KeyObject;
  /** The bundle file to write. */
  out: string;
  created?: Date;
}

/** Writes a signed bundle and returns its manifest. */
export async function writeBundle(o: BundleOptions): Promise<Manifest> {
  if (createPublicKey(o.privateKey).asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 private key');
  const payloadFile = `${o.out}.payload`;
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from(archiveBytes(o.entries)), createGzip({ level: 9 }), measure, createWriteStream(payloadFile, { mode: 0o600 }));
    const manifest = manifestSchema.parse({ product: PRODUCT, version: o.version, boards: o.boards, created: (o.created ?? new Date()).toISOString(), payload: { size, sha256: hash.digest('hex') } });
    const out = createWriteStream(o.out, { mode: 0o644 });
    out.write(headerBytes(manifest, o.privateKey));
    await pipeline(createReadStream(payloadFile), out);
    return manifest;
  } finally {
    await rm(payloadFile, { force: true });
  }
}
