/**
 * Fuzzing of everything in firmware/onvif/ that reads camera replies, with
 * ≥100,000 cases per property (test/firmware/onvif/fuzz.test.ts runs the same
 * properties with a few hundred):
 *
 *   node dist/scripts/bench/fuzz-onvif.js [runs=100000] [name-filter]
 *
 * The contract checked: bad bytes give an OnvifError (or are skipped and
 * counted), never another exception and never a crash.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OnvifError, meaningOf, notificationsOf, parseNotification, parseProbeMatches, parsePullMessagesXml, toOnvifError } from '../../firmware/onvif/index.js';
import { isMain, runFuzz, type NamedProperty } from './fuzz-harness.js';

const NOTIFY =
  '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>' +
  '<wsnt:Message><tt:Message UtcTime="2026-01-01T00:00:00Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VideoSourceToken"/></tt:Source>' +
  '<tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>';
export const PULL_XML =
  '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" ' +
  'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body><tev:PullMessagesResponse>' +
  `<tev:CurrentTime>2026-01-01T00:00:00Z</tev:CurrentTime><tev:TerminationTime>2026-01-01T00:01:00Z</tev:TerminationTime>${NOTIFY}${NOTIFY}</tev:PullMessagesResponse></env:Body></env:Envelope>`;
export const PROBE_XML =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
  '<s:Header><a:RelatesTo>urn:uuid:1</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:cam</a:Address></a:EndpointReference>' +
  '<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Cam</d:Scopes><d:XAddrs>http://10.0.0.9/onvif/device_service</d:XAddrs>' +
  '<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';

/** A valid document with a slice replaced by random text: truncations, broken tags, odd values. */
function mutated(doc: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat(doc.length), fc.nat(40), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('<', '>', '"', '&', '<tt:SimpleItem/>', ']]>', '<!--', '\u0000', 'xmlns:a="x"')))
    .map(([at, cut, ins]) => doc.slice(0, at) + ins + doc.slice(at + cut));
}

/** Resolves, or rejects with an OnvifError: anything else fails the property. */
async function onlyOnvifError(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OnvifError)) throw e;
  }
}

const anyBytes = fc.uint8Array({ maxLength: 400 });

export const onvifProperties: NamedProperty[] = [
  {
    name: 'notifications: any object shape',
    property: fc.property(fc.anything({ maxDepth: 5, withDate: true, withBoxedValues: true, withNullPrototype: true }), (v) => {
      const { notifications, skipped } = notificationsOf({ notificationMessage: v });
      assert.ok(skipped >= 0);
      for (const n of notifications) {
        assert.equal(typeof n.topic, 'string');
        meaningOf(n);
      }
      try {
        parseNotification(v);
      } catch (e) {
        if (!(e instanceof OnvifError)) throw e;
      }
    }),
  },
  {
    name: 'pull-messages: mutated reply',
    property: fc.asyncProperty(mutated(PULL_XML), async (xml) => {
      await onlyOnvifError(
        parsePullMessagesXml(xml).then((r) => {
          for (const n of r.notifications) meaningOf(n);
        }),
      );
    }),
  },
  {
    name: 'pull-messages: arbitrary bytes',
    property: fc.asyncProperty(anyBytes, async (b) => onlyOnvifError(parsePullMessagesXml(Buffer.from(b).toString('utf8')))),
  },
  {
    name: 'probe-matches: mutated reply',
    property: fc.asyncProperty(mutated(PROBE_XML), async (xml) => {
      await onlyOnvifError(
        parseProbeMatches(Buffer.from(xml), 'fuzz', 'urn:uuid:1').then((ds) => {
          for (const d of ds) assert.ok(d.urn && d.xaddrs.length > 0);
        }),
      );
    }),
  },
  {
    name: 'probe-matches: arbitrary bytes',
    property: fc.asyncProperty(anyBytes, async (b) => onlyOnvifError(parseProbeMatches(b, 'fuzz'))),
  },
  {
    name: 'errors: anything thrown maps to an OnvifError',
    property: fc.property(fc.anything({ maxDepth: 2 }), fc.string({ maxLength: 60 }), (v, msg) => {
      assert.ok(toOnvifError(v, 'x') instanceof OnvifError);
      assert.ok(toOnvifError(new Error(msg), 'x') instanceof OnvifError);
    }),
  },
];

if (isMain(import.meta.url)) process.exit((await runFuzz('fuzz-onvif', onvifProperties)) ? 0 : 1);
