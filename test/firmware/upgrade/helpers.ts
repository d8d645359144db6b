// Real bundles for the upgrade tests: a slot-like tree, keys and bundles made
// by scripts/firmware-bundle.ts, and an Upgrader over a temp install root.
import { request } from 'node:https';
import { createReadStream, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import { firmwareBundle } from '../../../scripts/firmware-bundle.js';
import { Upgrader, type UpgraderOptions } from '../../../firmware/upgrade/installer.js';
import { writeBundle, type PackEntry } from '../../../firmware/upgrade/pack.js';

export function tempDir(t: Test, prefix = 'upgrade-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A signing key made by the script's --new-key: its file and the public key as a board profile lists it. */
export async function newKey(dir: string, name = 'key.pem'): Promise<{ file: string; pub: string }> {
  const file = join(dir, name);
  const said = await firmwareBundle(['--new-key', file]);
  return { file, pub: said.trim().split('\n').pop()! };
}

/** Bytes gzip cannot shrink (so the bundle is as big as its files), the same on every run. */
function noise(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** A firmware-like tree: package.json of the version, text, binary, an executable, an empty file, nested folders. */
export function makeTree(dir: string, version: string): string {
  const files: Record<string, string | Buffer> = {
    'package.json': JSON.stringify({ name: 'dvr-firmware', version }),
    'dist/firmware/cli/dvr.js': `console.log(${JSON.stringify(version)});\n`,
    'board/sim/profile.json': '{}\n',
    'data/blob.bin': noise(300_000),
    'empty': '',
    'deep/a/b/c/d/ü n i c ø d e.txt': 'names with spaces and accents\n',
  };
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  chmodSync(join(dir, 'dist/firmware/cli/dvr.js'), 0o755);
  return dir;
}

/** Every regular file under dir: relative path → [mode, bytes]. */
export function treeOf(dir: string, prefix = ''): Map<string, [number, Buffer]> {
  const out = new Map<string, [number, Buffer]>();
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of treeOf(dir, rel)) out.set(k, v);
    else out.set(rel, [statSync(join(dir, rel)).mode & 0o777, readFileSync(join(dir, rel))]);
  }
  return out;
}

/** A bundle made by the script from a tree. */
export async function scriptBundle(o: { tree: string; key: string; out: string; boards?: string[]; version?: string }): Promise<string> {
  await firmwareBundle(['--dir', o.tree, '--key', o.key, '--out', o.out, ...(o.boards ?? ['sim']).flatMap((b) => ['--board', b]), ...(o.version ? ['--version', o.version] : [])]);
  return o.out;
}

/** A bundle of hand-made entries (what the script would never write: links, devices, escaping paths). */
export async function craftedBundle(o: { entries: PackEntry[]; key: string; out: string; version: string }): Promise<string> {
  await writeBundle({ entries: o.entries, version: o.version, boards: ['sim'], privateKey: createPrivateKey(readFileSync(o.key)), out: o.out });
  return o.out;
}

/** A temp dir with a trusted key, an Upgrader trusting it (running 1.0.0 on sim), and a good bundle of version 1.1.0. */
export async function upgradeRig(t: Test) {
  const dir = tempDir(t);
  const key = await newKey(dir);
  const up = makeUpgrader(dir, [key.pub]);
  const tree = makeTree(join(dir, 'tree-1.1.0'), '1.1.0');
  const good = await scriptBundle({ tree, key: key.file, out: join(dir, 'good.bundle') });
  return { dir, key, up, tree, good };
}

export function makeUpgrader(dir: string, keys: string[], over: Partial<UpgraderOptions> = {}): Upgrader {
  return new Upgrader({ root: join(dir, 'root'), stagingDir: join(dir, 'data'), keys, board: 'sim', runningVersion: '1.0.0', ...over });
}

/** POSTs a file to the box's upgrade route, streamed as the page sends it; `ca` pins the box's certificate (none: accepted as a user would). */
export function uploadBundle(port: number, headers: Record<string, string>, file: string, o: { ca?: string; query?: string; type?: string } = {}) {
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const tls = o.ca ? { ca: o.ca, servername: 'localhost' } : { rejectUnauthorized: false };
    const req = request(
      { host: '127.0.0.1', port, path: `/api/v1/system/upgrade${o.query ?? ''}`, method: 'POST', ...tls, headers: { ...headers, 'content-type': o.type ?? 'application/octet-stream' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

/** A file as an upload arriving in chunks of `size` bytes. */
export async function* chunksOf(file: string, size = 65_536): AsyncGenerator<Buffer> {
  const bytes = readFileSync(file);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** What is on disk under the install root and the staging folder, to compare before and after a refusal. */
export function diskState(dir: string): string[] {
  const list = (d: string): string[] => {
    try {
      return readdirSync(d, { recursive: true, withFileTypes: false }).map(String).sort();
    } catch {
      return [];
    }
  };
  return [...list(join(dir, 'root')).map((p) => `root/${p}`), ...list(join(dir, 'data')).map((p) => `data/${p}`)];
}
