/** A minimal ISO BMFF box reader for asserting on what the muxers wrote. */
export interface Box {
  type: string;
  /** Whole box size (header included). */
  size: number;
  offset: number;
  /** Body, header excluded (clipped to the buffer when partial). */
  body: Buffer;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'edts', 'dinf']);

export function readBoxes(buf: Buffer | Uint8Array, opts: { partial?: boolean } = {}): Box[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Box[] = [];
  let p = 0;
  while (p + 8 <= b.length) {
    let size = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) size = b.length - p;
    if (size < header || (p + size > b.length && !opts.partial)) throw new Error(`bad box ${type} at ${p}`);
    out.push({ type, size, offset: p, body: b.subarray(p + header, Math.min(b.length, p + size)) });
    p += size;
  }
  return out;
}

/** All boxes along a path of types, e.g. ['moov','trak','mdia']. */
export function findBoxes(buf: Buffer | Uint8Array, path: string[]): Box[] {
  let level = readBoxes(buf, { partial: true });
  for (let i = 0; i < path.length; i++) {
    const hits = level.filter((b) => b.type === path[i]);
    if (i === path.length - 1) return hits;
    level = hits.flatMap((h) => (CONTAINERS.has(h.type) ? readBoxes(h.body, { partial: true }) : []));
  }
  return [];
}
