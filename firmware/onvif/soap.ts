/**
 * The onvif package's own SOAP reader (xml2js with prefixes stripped and
 * tag names camel-cased, then `linerase` to plain values), for the replies
 * this folder reads itself: discovery answers and, in tests and fuzzing,
 * raw PullMessages bodies. Using the package's reader keeps one reading of
 * camera XML in the firmware.
 */
import { createRequire } from 'node:module';
import { OnvifError } from './errors.js';

interface OnvifUtils {
  parseSOAPString(xml: string, cb: (err: Error | null, body: unknown, xml: string, status?: number) => void, status?: number): void;
  linerase(x: unknown): any;
}
// A file of the onvif package without typings of its own; its exports are typed above.
const utils = createRequire(import.meta.url)('onvif/lib/utils.js') as OnvifUtils;

export const linerase = (x: unknown): any => utils.linerase(x);

/**
 * The SOAP body of `xml` as plain values (`linerase`d). Rejects with
 * OnvifError 'not-onvif' for anything that is not a SOAP envelope and
 * 'bad-reply' for a SOAP fault; never throws synchronously.
 */
export function parseSoapBody(xml: string): Promise<any> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, body: unknown) => {
      // xml2js may call back twice when the first callback throws; only the first counts.
      if (done) return;
      done = true;
      if (err) {
        const fault = /^ONVIF SOAP Fault/.test(err.message);
        reject(new OnvifError(fault ? 'bad-reply' : 'not-onvif', fault ? err.message.slice(0, 300) : `not a SOAP envelope: ${err.message.slice(0, 200)}`));
        return;
      }
      try {
        resolve(utils.linerase(body));
      } catch (e) {
        reject(new OnvifError('bad-reply', `unreadable SOAP body: ${String(e).slice(0, 200)}`));
      }
    };
    try {
      utils.parseSOAPString(xml, finish);
    } catch (e) {
      finish(e instanceof Error ? e : new Error(String(e)), null);
    }
  });
}
