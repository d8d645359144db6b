/**
 * Fuzzing of the codec parsers (H.264/H.265 SPS, Annex B and length-prefixed
 * framing, access-unit grouping, avcC/hvcC, ADTS, AudioSpecificConfig) and
 * of the fMP4 muxer's frame intake. The properties are shared: the unit tests
 * (test/firmware/media/fuzz-media.test.ts) run them with a few thousand cases,
 * running this file runs them with ≥100,000 each:
 *
 *   node dist/scripts/bench/fuzz-media.js [runs=100000] [name-filter]
 *
 * Each asserts that only MediaFormatError escapes and, where there is a
 * valid form, that it round-trips. Exits non-zero on a counterexample,
 * printing fast-check's report (with the seed to replay it).
 */
import fc from 'fast-check';
import { buildAudioSpecificConfig, parseAdtsHeader, parseAudioSpecificConfig, splitAdts, stripAdts, AAC_SAMPLE_RATES } from '../../firmware/media/aac.js';
import { MediaFormatError } from '../../firmware/media/errors.js';
import { buildAvcC, h264AccessUnits, parseAvcC, parseH264Sps, splitH264AccessUnit } from '../../firmware/media/h264.js';
import { buildHvcC, h265AccessUnits, parseH265Sps, parseHvcC, splitH265AccessUnit } from '../../firmware/media/h265.js';
import { joinLengthPrefixed, lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed } from '../../firmware/media/nal.js';
import { Fmp4Muxer } from '../../firmware/media/mp4/fragment.js';
import { expectOnly, isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
/** Real parameter sets from libx264 (1920x1080 High) and libx265 (706x578 Main), so mutations start deep in the syntax. */
export const H264_SPS = b64('Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY');
export const H264_PPS = b64('aOvjyyLA');
export const H265_VPS = b64('QAEMAf//AWAAAAMAkAAAAwAAAwBalZgJ');
export const H265_SPS = b64('QgEBAWAAAAMAkAAAAwAAAwBaoAWSAJJySZZWaSTK8BaAgAAAAwCAAAAMhA==');
export const H265_PPS = b64('RAHBcrRiQA==');

const only = (fn: () => void): void => expectOnly(MediaFormatError, fn);

const fail = (msg: string): never => {
  throw new Error(msg);
};

/** A mutated copy: up to 4 byte changes past the NAL header, then maybe truncated. */
const mutation = (real: Uint8Array, header: number) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.integer({ min: header, max: real.length })).map(([edits, cut]) => {
    const m = real.slice(0, cut);
    for (const [i, x] of edits) if (i >= header && i < m.length) m[i] ^= x;
    return m;
  });

const saneSize = (s: { width: number; height: number }): void => {
  if (!(Number.isInteger(s.width) && Number.isInteger(s.height) && s.width > 0 && s.height > 0 && s.width <= 16888 && s.height <= 16888 * 2)) fail(`nonsense size ${s.width}x${s.height}`);
};

const h264Sps = fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.of(0x67, ...b)), mutation(H264_SPS, 1)), (nal) => {
  only(() => saneSize(parseH264Sps(nal)));
});

const h265Sps = fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.of(0x42, 0x01, ...b)), mutation(H265_SPS, 2)), (nal) => {
  only(() => saneSize(parseH265Sps(nal)));
});

/** A NAL unit as an encoder makes one: emulation prevention applied, non-zero last byte. */
const nalUnit = fc.uint8Array({ minLength: 1, maxLength: 60 }).map((raw) => {
  const out: number[] = [];
  let zeros = 0;
  for (const b of [...raw, 0x80]) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (out[0] === 0) out[0] = 0x41; // a NAL header is never zero (forbidden bit, type)
  return Uint8Array.from(out);
});

const annexB = fc.property(
  fc.array(fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.constantFrom(Uint8Array.of(0, 0, 1), Uint8Array.of(0, 0, 0, 1))), { maxLength: 40 }),
  fc.array(nalUnit, { minLength: 1, maxLength: 12 }),
  (pieces, nals) => {
    // Garbage: never throws, never yields more bytes than given, never an empty NAL.
    const buf = Uint8Array.from(pieces.flatMap((p) => [...p]));
    const out = splitAnnexB(buf);
    if (out.reduce((n, x) => n + x.length, 0) > buf.length || out.some((n) => n.length === 0)) fail('splitAnnexB invented bytes');
    // Valid NAL units survive length-prefixed -> Annex B -> split unchanged.
    const back = splitAnnexB(lengthPrefixedToAnnexB(joinLengthPrefixed(nals)));
    if (back.length !== nals.length || back.some((n, i) => Buffer.compare(n, nals[i]!) !== 0)) fail('Annex B round trip changed the NAL units');
  },
);

const lengthPrefixed = fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
  only(() => {
    const nals = splitLengthPrefixed(b);
    if (Buffer.compare(joinLengthPrefixed(nals), b) !== 0) fail('length-prefixed round trip changed the data');
  });
  only(() => void splitH264AccessUnit(b));
  only(() => void splitH265AccessUnit(b));
});

const accessUnits = fc.property(fc.array(nalUnit, { maxLength: 30 }), (nals) => {
  for (const group of [h264AccessUnits, h265AccessUnits]) {
    const flat = group(nals).flat();
    if (flat.length !== nals.length || flat.some((n, i) => n !== nals[i])) fail('access-unit grouping lost or reordered NAL units');
  }
});

const configRecords = fc.property(fc.uint8Array({ maxLength: 120 }), nalUnit, (b, pps) => {
  only(() => void parseAvcC(b));
  only(() => void parseHvcC(b));
  const avcc = parseAvcC(buildAvcC([H264_SPS], [pps]));
  if (Buffer.compare(avcc.pps[0]!, pps) !== 0 || Buffer.compare(avcc.sps[0]!, H264_SPS) !== 0) fail('avcC round trip');
  const hvcc = parseHvcC(buildHvcC([H265_VPS], [H265_SPS], [pps]));
  if (Buffer.compare(hvcc.pps[0]!, pps) !== 0 || Buffer.compare(hvcc.vps[0]!, H265_VPS) !== 0) fail('hvcC round trip');
});

const adtsFrame = (rateIndex: number, channels: number, payload: Uint8Array): Uint8Array => {
  const len = payload.length + 7;
  return Uint8Array.of(0xff, 0xf1, 0x40 | (rateIndex << 2) | (channels >> 2), ((channels & 3) << 6) | (len >> 11), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc, ...payload);
};

const adts = fc.property(
  fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(0xff, 0xf1, ...b))),
  fc.nat(20),
  fc.integer({ min: 0, max: 12 }),
  fc.integer({ min: 1, max: 7 }),
  fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 5 }),
  (garbage, off, rateIndex, channels, payloads) => {
    only(() => void parseAdtsHeader(garbage, off));
    only(() => void splitAdts(garbage));
    only(() => void stripAdts(garbage));
    const stream = Uint8Array.from(payloads.flatMap((p) => [...adtsFrame(rateIndex, channels, p)]));
    const frames = splitAdts(stream);
    if (frames.length !== payloads.length || frames.some((f, i) => Buffer.compare(f.data, payloads[i]!) !== 0)) fail('ADTS round trip');
    if (frames[0]!.header.sampleRate !== AAC_SAMPLE_RATES[rateIndex] || frames[0]!.header.channels !== channels) fail('ADTS header fields');
  },
);

const asc = fc.property(fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 2 ** 24 - 1 }), (b, objectType, channels, sampleRate) => {
  only(() => void parseAudioSpecificConfig(b));
  const c = { objectType, channels, sampleRate };
  const back = parseAudioSpecificConfig(buildAudioSpecificConfig(c));
  if (back.objectType !== objectType || back.channels !== channels || back.sampleRate !== sampleRate) fail('AudioSpecificConfig round trip');
});

/** Random frame sequences into the fMP4 muxer: bad frames are refused with MediaFormatError, output boxes stay well-formed. */
const fmp4Intake = fc.property(
  fc.array(
    fc.record({
      track: fc.integer({ min: 0, max: 2 }),
      dt: fc.integer({ min: -50_000, max: 200_000 }),
      keyframe: fc.boolean(),
      data: fc.oneof(nalUnit.map((n) => joinLengthPrefixed([n])), fc.uint8Array({ maxLength: 40 })),
    }),
    { maxLength: 60 },
  ),
  fc.option(fc.integer({ min: 1, max: 3000 })),
  (steps, fragmentMs) => {
    const m = new Fmp4Muxer(
      [{ codec: 'h264', config: buildAvcC([H264_SPS], [H264_PPS]) }, { codec: 'aac', config: buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 }) }],
      fragmentMs === null ? {} : { fragmentMs },
    );
    let time = 1.7e15;
    const segs: Uint8Array[] = [];
    for (const s of steps) {
      time += s.dt;
      only(() => segs.push(...m.push(s.track, { time, keyframe: s.keyframe, data: s.data }).map((x) => x.data)));
    }
    segs.push(...m.flush().map((x) => x.data));
    for (const seg of segs) {
      const view = new DataView(seg.buffer, seg.byteOffset, seg.length);
      const moof = view.getUint32(0);
      if (moof + view.getUint32(moof) !== seg.length) fail('segment is not exactly moof + mdat');
    }
  },
);

export const mediaProperties: NamedProperty<fc.IProperty<any>>[] = [
  { name: 'h264-sps', property: h264Sps },
  { name: 'h265-sps', property: h265Sps },
  { name: 'annexb-split', property: annexB },
  { name: 'length-prefixed', property: lengthPrefixed },
  { name: 'access-units', property: accessUnits },
  { name: 'avcc-hvcc', property: configRecords },
  { name: 'adts', property: adts },
  { name: 'audio-specific-config', property: asc },
  { name: 'fmp4-intake', property: fmp4Intake },
];

// Run only when executed, not when the tests import the properties.
if (isMain(import.meta.url)) await runFuzz('fuzz-media', mediaProperties);
