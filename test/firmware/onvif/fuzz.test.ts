import t from 'tap';
import fc from 'fast-check';
import { onvifProperties, PROBE_XML, PULL_XML } from '../../../scripts/bench/fuzz-onvif.js';
import { parseProbeMatches, parsePullMessagesXml } from '../../../firmware/onvif/index.js';

// The same properties run with ≥100,000 cases in scripts/bench/fuzz-onvif.ts.
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);

t.test('the fuzz seeds are valid replies', async (t) => {
  const pull = await parsePullMessagesXml(PULL_XML);
  t.equal(pull.notifications.length, 2);
  t.match(pull.notifications[0], { topic: 'RuleEngine/CellMotionDetector/Motion', operation: 'Changed', data: { IsMotion: 'true' } });
  t.equal((await parseProbeMatches(Buffer.from(PROBE_XML), 'x', 'urn:uuid:1')).length, 1);
});

for (const { name, property } of onvifProperties) {
  t.test(name, async (t) => {
    const r = await fc.check(property, { numRuns: RUNS });
    t.notOk(r.failed, r.failed ? fc.defaultReportMessage(r) : `${r.numRuns} cases`);
  });
}
