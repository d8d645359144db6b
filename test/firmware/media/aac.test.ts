import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  adtsToAudioSpecificConfig, buildAudioSpecificConfig, parseAdtsHeader, parseAudioSpecificConfig, splitAdts, stripAdts,
} from '../../../firmware/media/aac.js';
import { ffmpeg, ffprobe, run, tempDir } from './helpers/ffmpeg.js';

const dir = await tempDir(t);

for (const [rate, channels] of [[48000, 1], [44100, 2], [8000, 1], [16000, 2]] as const) {
  t.test(`ADTS ${rate} Hz ${channels} ch from ffmpeg: every frame found, config as ffmpeg writes it`, async (t) => {
    const aac = join(dir, `${rate}-${channels}.aac`);
    await ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`, '-t', '1', '-ac', String(channels), '-c:a', 'aac', '-f', 'adts', aac);
    const buf = new Uint8Array(await readFile(aac));
    const frames = splitAdts(buf);
    const probe = await ffprobe(aac);
    t.equal(frames.length, Number(probe.streams[0]!.nb_read_frames), 'frame count as ffprobe counts it');
    const h = frames[0]!.header;
    t.same([h.objectType, h.sampleRate, h.channels, h.headerLength, h.blocks], [2, rate, channels, 7, 1]);
    t.equal(frames.reduce((n, f) => n + f.data.length + 7, 0), buf.length, 'frames tile the whole file');
    t.same(Array.from(stripAdts(buf.subarray(0, h.frameLength))), Array.from(frames[0]!.data));
    // ffmpeg's own MP4 of this stream carries the AudioSpecificConfig it derived.
    const m4a = join(dir, `${rate}-${channels}.m4a`);
    await ffmpeg('-i', aac, '-c', 'copy', m4a);
    const shown = (await run('ffprobe', ['-v', 'error', '-show_streams', '-show_data', '-of', 'json', m4a])).stdout.toString();
    const hex = /"extradata": "\\n00000000: ([0-9a-f ]+?) {2,}/.exec(shown)![1]!.replace(/ /g, '');
    t.equal(Buffer.from(adtsToAudioSpecificConfig(h)).toString('hex'), hex);
  });
}

t.test('AudioSpecificConfig round trip, including an explicit (non-table) rate', async (t) => {
  for (const c of [{ objectType: 2, sampleRate: 48000, channels: 2 }, { objectType: 2, sampleRate: 7350, channels: 1 }, { objectType: 5, sampleRate: 50000, channels: 6 }]) {
    const asc = buildAudioSpecificConfig(c);
    t.equal(asc.length, c.sampleRate === 50000 ? 5 : 2);
    t.same(parseAudioSpecificConfig(asc), c);
  }
  t.throws(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 0 }), { name: 'MediaFormatError', message: /channel configuration 0/ });
  t.throws(() => buildAudioSpecificConfig({ objectType: 0, sampleRate: 48000, channels: 1 }), /object type 0/);
  t.throws(() => parseAudioSpecificConfig(Uint8Array.of(0x12)), /truncated/);
  t.throws(() => parseAudioSpecificConfig(Uint8Array.of(0x16, 0x90)), /invalid sampling frequency index 13/);
});

t.test('garbage and damaged ADTS are clear errors', async (t) => {
  const good = Uint8Array.of(0xff, 0xf1, 0x4c, 0x80, 0x01, 0x3f, 0xfc, 1, 2); // 48 kHz stereo, 9 bytes
  t.equal(parseAdtsHeader(good).frameLength, 9);
  t.equal(splitAdts(good).length, 1);
  t.throws(() => splitAdts(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), { name: 'MediaFormatError', message: /no ADTS sync word at byte 0/ });
  t.throws(() => splitAdts(Uint8Array.of(...good, 0, 1)), /ADTS header truncated at byte 9/);
  t.throws(() => splitAdts(Uint8Array.of(...good, ...good.subarray(0, 8))), /ADTS frame at byte 9 truncated: 9 bytes announced, 8 present/);
  t.throws(() => parseAdtsHeader(Uint8Array.of(0xff, 0xf1, 0x7c, 0x80, 0x01, 0x3f, 0xfc)), /invalid sampling frequency index 15/);
  t.throws(() => parseAdtsHeader(Uint8Array.of(0xff, 0xf1, 0x4c, 0x00, 0x01, 0x3f, 0xfc)), /channel configuration 0/);
  t.throws(() => parseAdtsHeader(Uint8Array.of(0xff, 0xf1, 0x4c, 0x80, 0x00, 0xdf, 0xfc)), /shorter than its header/);
  t.throws(() => splitAdts(Uint8Array.of(0xff, 0xf1, 0x4c, 0x80, 0x01, 0x3f, 0xfd, 1, 2)), /2 raw data blocks/);
  const mono = Uint8Array.of(0xff, 0xf1, 0x4c, 0x40, 0x01, 0x3f, 0xfc, 1, 2);
  t.throws(() => splitAdts(Uint8Array.of(...good, ...mono)), /changes format mid-stream/);
  const crc = Uint8Array.of(0xff, 0xf0, 0x4c, 0x80, 0x01, 0x7f, 0xfc, 0xab, 0xcd, 1, 2);
  t.same(Array.from(stripAdts(crc)), [1, 2], 'CRC-protected header is 9 bytes');
});

// Fuzzing of these parsers: fuzz-media.test.ts (and scripts/bench/fuzz-media.ts at ≥100,000 cases).
