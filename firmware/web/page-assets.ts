// The page's static files (built from page/ into the same folder of dist/),
// held in memory with their gzip: a few tens of KB, served to anyone, since
// they carry no data; everything the page shows comes through the API.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SECURITY_HEADERS, type Router } from './http/router.js';

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
}

/** Reads the built page from `dir`; a missing file leaves the page unserved (the API works regardless). */
export async function loadPageAssets(dir: string): Promise<Map<string, Asset> | { missing: string }> {
  const out = new Map<string, Asset>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (!type || !/^[a-z0-9-]+\.[a-z]+$/.test(name)) continue;
    const raw = await readFile(join(dir, name));
    out.set(name === 'index.html' ? '/' : `/${name}`, { type, raw, gzip: gzipSync(raw, { level: 9 }) });
  }
  for (const needed of ['/', '/app.js', '/app.css']) if (!out.has(needed)) return { missing: needed === '/' ? 'index.html' : needed.slice(1) };
  return out;
}

/** Total gzipped size of the page: what the firmware image and a first visit carry. */
export function pageBytes(assets: Map<string, Asset>): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const a of assets.values()) (raw += a.raw.length), (gzip += a.gzip.length);
  return { raw, gzip };
}

export function addPageRoutes(router: Router, assets: Map<string, Asset> | { missing: string }): void {
  for (const path of assets instanceof Map ? assets.keys() : ['/']) {
    router.add({
      method: 'GET', path, access: 'public', summary: `the web page: ${path === '/' ? 'index.html' : path.slice(1)}`,
      response: { file: assets instanceof Map ? assets.get(path)!.type : TYPES.html!, description: 'a file of the page, gzipped when the client accepts it' },
      handler: async ({ req, res }) => {
        if (!(assets instanceof Map)) {
          res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end(`the web page is not built (${assets.missing} missing): run make build\n`);
          return undefined;
        }
        const a = assets.get(path)!;
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? a.gzip : a.raw;
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': a.type, 'content-length': body.length, vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
        res.end(req.method === 'HEAD' ? undefined : body);
        return undefined;
      },
    });
  }
}
