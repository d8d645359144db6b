/**
 * Reading ONVIF event notifications (WS-BaseNotification messages as the
 * onvif package hands them over, or a raw PullMessages reply) and mapping
 * the topics an NVR acts on to the firmware's motion / tamper / alarm events.
 */
import { OnvifError } from './errors.js';
import { parseSoapBody } from './soap.js';

export interface OnvifNotification {
  /** The topic without namespace prefixes: RuleEngine/CellMotionDetector/Motion. */
  topic: string;
  /** Initialized (the state when subscribing), Changed, Deleted; undefined when the camera leaves it out. */
  operation?: string;
  /** The camera's UtcTime for the message (ms since the epoch, camera clock). */
  utcTime?: number;
  source: Record<string, string>;
  data: Record<string, string>;
}

export type EventMeaning =
  | { kind: 'motion'; active: boolean }
  | { kind: 'tamper'; active: boolean }
  | { kind: 'input'; input: string; active: boolean };

const MAX_ITEMS = 32;
const MAX_TEXT = 256;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.slice(0, MAX_TEXT);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  return undefined;
}

/** SimpleItem(s) → name/value pairs; items without a readable Name/Value are skipped. */
function simpleItems(holder: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(holder)) return out;
  const raw = holder['simpleItem'];
  const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  for (const it of items.slice(0, MAX_ITEMS)) {
    const a = isObject(it) ? it['$'] : undefined;
    if (!isObject(a)) continue;
    const name = asText(a['Name']);
    const value = asText(a['Value']);
    if (name !== undefined && value !== undefined && !(name in Object.prototype)) out[name] = value;
  }
  return out;
}

/** Strips the namespace prefix of each topic segment: tns1:Device/tnsaxis:IO/Port → Device/IO/Port. */
export function plainTopic(topic: string): string {
  return topic
    .trim()
    .split('/')
    .map((seg) => seg.replace(/^[^:]*:/, ''))
    .join('/');
}

/**
 * One NotificationMessage (linerase'd by the onvif package) to a
 * notification. Throws OnvifError 'bad-reply' when it has no topic.
 */
export function parseNotification(msg: unknown): OnvifNotification {
  if (!isObject(msg)) throw new OnvifError('bad-reply', 'notification is not an element');
  const t = msg['topic'];
  const topicText = asText(isObject(t) ? t['_'] : t);
  if (!topicText || !topicText.trim()) throw new OnvifError('bad-reply', 'notification without a topic');
  // <wsnt:Message><tt:Message UtcTime PropertyOperation>...: two levels named message.
  const outer = msg['message'];
  const inner = isObject(outer) ? (isObject(outer['message']) ? outer['message'] : outer) : undefined;
  const attrs = isObject(inner?.['$']) ? (inner!['$'] as Record<string, unknown>) : {};
  const n: OnvifNotification = { topic: plainTopic(topicText), source: simpleItems(inner?.['source']), data: simpleItems(inner?.['data']) };
  const op = asText(attrs['PropertyOperation']);
  if (op) n.operation = op;
  const utc = attrs['UtcTime'];
  const ms = utc instanceof Date ? utc.getTime() : typeof utc === 'string' ? Date.parse(utc) : NaN;
  if (Number.isFinite(ms)) n.utcTime = ms;
  return n;
}

/**
 * The notifications in a PullMessages response (as the onvif package's
 * pullMessages resolves it). Unreadable messages are counted in `skipped`,
 * never thrown: one odd message must not lose the others.
 */
export function notificationsOf(response: unknown): { notifications: OnvifNotification[]; skipped: number } {
  const out: OnvifNotification[] = [];
  let skipped = 0;
  if (!isObject(response)) return { notifications: out, skipped };
  const raw = response['notificationMessage'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  for (const m of list) {
    try {
      out.push(parseNotification(m));
    } catch {
      skipped++;
    }
  }
  return { notifications: out, skipped };
}

/** A raw PullMessages reply (bytes from the camera) to notifications; OnvifError on anything unreadable. */
export async function parsePullMessagesXml(xml: string): Promise<{ notifications: OnvifNotification[]; skipped: number }> {
  const body = await parseSoapBody(xml);
  const r = isObject(body) ? body['pullMessagesResponse'] : undefined;
  if (r === undefined) throw new OnvifError('bad-reply', 'not a PullMessagesResponse');
  return notificationsOf(r);
}

/** true/false as cameras write it: booleans, "true"/"false", 1/0, "active"/"inactive", "on"/"off". */
export function parseState(v: string | undefined): boolean | undefined {
  switch (v?.trim().toLowerCase()) {
    case 'true':
    case '1':
    case 'active':
    case 'on':
      return true;
    case 'false':
    case '0':
    case 'inactive':
    case 'off':
      return false;
  }
  return undefined;
}

/**
 * What a notification means for the NVR, or null for topics it does not act
 * on (and for known topics whose state cannot be read).
 */
export function meaningOf(n: OnvifNotification): EventMeaning | null {
  const topic = n.topic.toLowerCase();
  const d = n.data;
  if (topic === 'ruleengine/cellmotiondetector/motion' || topic === 'ruleengine/motionregiondetector/motion') {
    const active = parseState(d['IsMotion'] ?? d['State']);
    return active === undefined ? null : { kind: 'motion', active };
  }
  if (topic === 'videosource/motionalarm') {
    const active = parseState(d['State']);
    return active === undefined ? null : { kind: 'motion', active };
  }
  if (topic === 'ruleengine/tamperdetector/tamper' || topic.startsWith('videosource/globalscenechange/')) {
    const active = parseState(d['IsTamper'] ?? d['State']);
    return active === undefined ? null : { kind: 'tamper', active };
  }
  if (topic === 'device/trigger/digitalinput') {
    const active = parseState(d['LogicalState'] ?? d['State']);
    const input = n.source['InputToken'] ?? n.source['Index'] ?? Object.values(n.source)[0] ?? '0';
    return active === undefined ? null : { kind: 'input', input, active };
  }
  return null;
}
