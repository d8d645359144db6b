// JPEG snapshots through libturbojpeg, judged by ffprobe/ffmpeg.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JpegEncoder, rawFrameSize, type RawFormat } from '../../../drivers/encoder/index.js';

const W = 704;
const H = 576;

function frame(dir: string, format: RawFormat): Buffer {
  const pix = { nv12: 'nv12', yuv420p: 'yuv420p', yuyv: 'yuyv422' }[format];
  const file = join(dir, `src-${format}.raw`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}`, '-frames:v', '1', '-pix_fmt', pix, '-f', 'rawvideo', file]);
  return readFileSync(file);
}

function probe(file: string): Record<string, string> {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_streams', file], { encoding: 'utf8' });
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function psnr(jpeg: string, ref: string): number {
  const log = execFileSync(
    'sh',
    ['-c', 'ffmpeg -hide_banner -nostats "$@" 2>&1', 'sh', '-i', jpeg, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', ref, '-lavfi', '[0:v]format=yuv420p[a];[a][1:v]psnr', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const m = /average:([\d.]+|inf)/.exec(log);
  if (!m) throw new Error(log.slice(-1500));
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

t.test('snapshots decode as mjpeg 704x576 close to the source', async (t) => {
  const dir = t.testdir();
  const ref = frame(dir, 'yuv420p');
  writeFileSync(join(dir, 'ref.yuv'), ref);
  const jpeg = new JpegEncoder();
  t.teardown(() => jpeg.close());
  for (const format of ['yuv420p', 'nv12', 'yuyv'] as const) {
    const raw = frame(dir, format);
    const data = format === 'yuv420p' ? jpeg.compress(raw, format, W, H, { quality: 90 }) : await jpeg.compressAsync(raw, format, W, H, { quality: 90 });
    t.same([...data.subarray(0, 2)], [0xff, 0xd8], `${format}: SOI marker`);
    const file = join(dir, `${format}.jpg`);
    writeFileSync(file, data);
    const s = probe(file);
    t.equal(`${s['codec_name']} ${s['width']}x${s['height']}`, 'mjpeg 704x576', `${format}: ffprobe`);
    const db = psnr(file, join(dir, 'ref.yuv'));
    t.ok(db > 30, `${format}: PSNR ${db} dB > 30`);
  }
  // Untouched samples: compare the decoded values as they are (yuvj420p bytes).
  const raw = jpeg.compress(ref, 'yuv420p', W, H, { quality: 90, fullRange: false });
  writeFileSync(join(dir, 'raw.jpg'), raw);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', join(dir, 'raw.jpg'), '-f', 'rawvideo', '-pix_fmt', 'yuvj420p', join(dir, 'raw.yuv')]);
  const decoded = readFileSync(join(dir, 'raw.yuv'));
  let se = 0;
  for (let i = 0; i < W * H; i++) se += (decoded[i]! - ref[i]!) ** 2;
  const db = 10 * Math.log10((255 * 255) / (se / (W * H)));
  t.ok(db > 30, `fullRange: false keeps the samples (luma PSNR ${db.toFixed(1)} dB)`);
});

t.test('jpeg errors', async (t) => {
  const jpeg = new JpegEncoder();
  const size = rawFrameSize('nv12', W, H);
  t.throws(() => jpeg.compress(new Uint8Array(size - 2), 'nv12', W, H), { code: 'BAD_INPUT', message: /must be 608256 bytes, got 608254/ });
  t.throws(() => jpeg.compress(new Uint8Array(size), 'nv12', W, H, { quality: 0 }), { code: 'BAD_CONFIG', setting: 'quality' });
  t.throws(() => jpeg.compress(new Uint8Array(size), 'rgb' as RawFormat, W, H), { code: 'BAD_CONFIG', setting: 'format' });
  t.throws(() => jpeg.compress(new Uint8Array(size), 'nv12', 703, H), { code: 'BAD_CONFIG', setting: 'width' });
  const small = jpeg.compress(new Uint8Array(rawFrameSize('nv12', 64, 48)).fill(128), 'nv12', 64, 48);
  t.ok(small.length > 100, 'other sizes on the same compressor');
  jpeg.close();
  jpeg.close();
  t.throws(() => jpeg.compress(new Uint8Array(size), 'nv12', W, H), { code: 'CLOSED' });
  await t.rejects(jpeg.compressAsync(new Uint8Array(size), 'nv12', W, H), { code: 'CLOSED' });
});
