/**
 * WS-Discovery: finding ONVIF cameras. A Probe for NetworkVideoTransmitter
 * goes over UDP to the multicast group 239.255.255.250:3702 (the LAN), or to
 * one address (a camera on another subnet, or a test's simulator); every
 * ProbeMatches answer is read into a DiscoveredDevice. Bad answers are
 * reported and skipped, never fatal: one broken device on the LAN must not
 * hide the others (the onvif package's own Discovery rejects the whole probe
 * then, and can only multicast; hence this module).
 */
import { createSocket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { OnvifError } from './errors.js';
import { parseSoapBody } from './soap.js';

export const WS_DISCOVERY_ADDRESS = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoveredDevice {
  /** The endpoint reference (urn:uuid:...): the device's identity across address changes. */
  urn: string;
  /** Device service URLs, as advertised. */
  xaddrs: string[];
  types: string[];
  scopes: string[];
  /** From the onvif://www.onvif.org/name/ and /hardware/ scopes, URL-decoded. */
  name?: string;
  hardware?: string;
  /** Who answered (host:port). */
  from: string;
}

export interface DiscoverOptions {
  /** Probe this address only (unicast); default: the multicast group. */
  address?: string;
  port?: number;
  /** How long to collect answers. Default 3 s. */
  timeoutMs?: number;
  /** Local address to send from (picks the interface for multicast). */
  bindAddress?: string;
  /** Called for each answer that could not be read. */
  onBadReply?: (from: string, err: OnvifError) => void;
}

export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

function words(v: unknown): string[] {
  // An element with attributes (Scopes MatchBy="...") comes as { _: text, $: attributes }.
  if (v && typeof v === 'object' && '_' in v) v = (v as { _: unknown })._;
  return typeof v === 'string' ? v.split(/\s+/).filter(Boolean).slice(0, 64) : [];
}

function scopeValue(scopes: string[], kind: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const s = scopes.find((x) => x.toLowerCase().startsWith(prefix));
  if (!s) return undefined;
  try {
    return decodeURIComponent(s.slice(prefix.length)) || undefined;
  } catch {
    return s.slice(prefix.length) || undefined;
  }
}

/**
 * One WS-Discovery answer (bytes off the wire) to the devices it lists.
 * OnvifError for anything that is not a ProbeMatches with an address and a
 * usable http(s) XAddr; an answer to another probe (RelatesTo differs) is [].
 */
export async function parseProbeMatches(bytes: Uint8Array, from: string, messageId?: string): Promise<DiscoveredDevice[]> {
  if (bytes.length > 64 * 1024) throw new OnvifError('bad-reply', `discovery answer from ${from} is too large (${bytes.length} bytes)`);
  const xml = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (messageId) {
    // The body reader drops the header; RelatesTo is a plain text element we can find directly.
    const rel = /<(?:[\w.-]+:)?RelatesTo\b[^>]*>\s*([^<\s]+)\s*</.exec(xml);
    if (rel && rel[1] !== messageId) return [];
  }
  const body = await parseSoapBody(xml);
  const pm = body?.probeMatches;
  if (!pm || typeof pm !== 'object') throw new OnvifError('bad-reply', `discovery answer from ${from} is not ProbeMatches`);
  const raw = (pm as { probeMatch?: unknown }).probeMatch;
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === '' ? [] : [raw];
  const out: DiscoveredDevice[] = [];
  for (const m of list.slice(0, 16)) {
    const addr = (m as any)?.endpointReference?.address;
    const urn = typeof addr === 'string' ? addr.trim() : '';
    const xaddrs = words((m as any)?.XAddrs).filter((u) => {
      try {
        return /^https?:$/.test(new URL(u).protocol);
      } catch {
        return false;
      }
    });
    if (!urn || !xaddrs.length) throw new OnvifError('bad-reply', `discovery answer from ${from} has no endpoint address or no http XAddr`);
    const scopes = words((m as any)?.scopes);
    const d: DiscoveredDevice = { urn: urn.slice(0, 200), xaddrs, types: words((m as any)?.types), scopes, from };
    const name = scopeValue(scopes, 'name');
    const hardware = scopeValue(scopes, 'hardware');
    if (name) d.name = name;
    if (hardware) d.hardware = hardware;
    out.push(d);
  }
  return out;
}

/** Sends one Probe and collects the answers for `timeoutMs`; devices are deduplicated by urn. */
export async function discover(o: DiscoverOptions = {}): Promise<DiscoveredDevice[]> {
  const messageId = `urn:uuid:${randomUUID()}`;
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const found = new Map<string, DiscoveredDevice>();
  const pending: Promise<void>[] = [];
  socket.on('message', (msg, rinfo) => {
    const from = `${rinfo.address}:${rinfo.port}`;
    pending.push(
      parseProbeMatches(msg, from, messageId).then(
        (ds) => ds.forEach((d) => found.has(d.urn) || found.set(d.urn, d)),
        (e: OnvifError) => {
          try {
            o.onBadReply?.(from, e);
          } catch {
            /* a throwing report callback must not become an unhandled rejection */
          }
        },
      ),
    );
  });
  try {
    await new Promise<void>((res, rej) => {
      socket.once('error', rej);
      socket.bind(0, o.bindAddress, () => {
        socket.off('error', rej);
        res();
      });
    });
    socket.on('error', () => {}); // a late ICMP error must not crash the process
    const target = o.address ?? WS_DISCOVERY_ADDRESS;
    if (!o.address) socket.setMulticastTTL(1);
    const msg = Buffer.from(probeMessage(messageId));
    await new Promise<void>((res, rej) => socket.send(msg, o.port ?? WS_DISCOVERY_PORT, target, (err) => (err ? rej(err) : res())));
    await new Promise((r) => setTimeout(r, o.timeoutMs ?? 3000));
  } catch (e) {
    throw new OnvifError('unreachable', `discovery probe failed: ${(e as Error).message}`, { cause: e });
  } finally {
    socket.close();
  }
  await Promise.all(pending);
  return [...found.values()];
}
