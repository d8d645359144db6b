/**
 * Fuzz of every parser of on-disk store records (fast-check, a few thousand
 * cases each; scripts/bench/storage-fuzz.ts runs ≥ 100k).
 */
import t from 'tap';
import fc from 'fast-check';
import { properties } from '../../../scripts/bench/storage-fuzz-props.js';
import { decodeIndexRegion, encodeIndexRecord, INDEX_RECORD_SIZE } from '../../../firmware/storage/format.js';

const RUNS = Number(process.env.STORAGE_FUZZ_RUNS ?? 3000);

for (const [name, p] of Object.entries(properties)) {
  t.test(name, async (t) => {
    fc.assert(p, { numRuns: RUNS });
    t.pass(`${RUNS} cases`);
  });
}

t.test('index region: a stale record of an older generation never extends a block', async (t) => {
  const region = Buffer.alloc(4 * INDEX_RECORD_SIZE);
  encodeIndexRecord({ time: 10, offset: 0, size: 5, gen: 7, seq: 1, keyframe: true, dataCrc: 0 }, region, 0);
  encodeIndexRecord({ time: 11, offset: 5, size: 5, gen: 7, seq: 1, keyframe: false, dataCrc: 0 }, region, 32);
  // Left over from generation 6, at exactly the right offset: still not ours.
  encodeIndexRecord({ time: 12, offset: 10, size: 5, gen: 6, seq: 1, keyframe: false, dataCrc: 0 }, region, 64);
  t.equal(decodeIndexRegion(region, 7, 1000).length, 2);
  // Same generation but not contiguous, or going back in time: the chain stops.
  encodeIndexRecord({ time: 12, offset: 11, size: 5, gen: 7, seq: 1, keyframe: false, dataCrc: 0 }, region, 64);
  t.equal(decodeIndexRegion(region, 7, 1000).length, 2);
  encodeIndexRecord({ time: 9, offset: 10, size: 5, gen: 7, seq: 1, keyframe: false, dataCrc: 0 }, region, 64);
  t.equal(decodeIndexRegion(region, 7, 1000).length, 2);
  encodeIndexRecord({ time: 12, offset: 10, size: 5, gen: 7, seq: 1, keyframe: false, dataCrc: 0 }, region, 64);
  t.equal(decodeIndexRegion(region, 7, 1000).length, 3);
  t.equal(decodeIndexRegion(region, 7, 14).length, 2, 'a frame running past the data region is not valid');
});
