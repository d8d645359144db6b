import t from 'tap';
import fc from 'fast-check';
import { rtspRtpProperties } from '../../../../scripts/bench/fuzz-rtsp-rtp.js';

// The same properties run with ≥100,000 cases in scripts/bench/fuzz-rtsp-rtp.ts.
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 500);

// rtsp-* properties run in ../rtsp/fuzz.test.ts.
for (const { name, property } of rtspRtpProperties.filter((p) => !p.name.startsWith('rtsp-'))) {
  t.test(name, async (t) => {
    const r = await fc.check(property, { numRuns: RUNS });
    t.notOk(r.failed, r.failed ? fc.defaultReportMessage(r) : `${r.numRuns} cases`);
  });
}
