// The box's own network: its LAN address (DHCP or static), DNS servers and
// NTP servers. The `network.lan` and `network.ntp` settings; firmware/system/
// network turns them into the OS's files.
import { isIPv4 } from 'node:net';
import { array, boolean, nullable, object, refine, string, type Infer } from '../core/schema.js';

const ipv4 = refine(string({ min: 7, max: 15, pattern: /^[0-9.]+$/ }), (v, path, issues) => {
  if (!isIPv4(v)) issues.push(`${path || '(root)'}: ${JSON.stringify(v)} is not an IPv4 address`);
});

/** 192.168.1.64/24 as a number and a prefix length; null when it is not one. */
export function parseCidr(v: string): { address: number; prefix: number } | null {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(v);
  if (!m || !isIPv4(m[1]!)) return null;
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 32) return null;
  return { address: ipv4Number(m[1]!), prefix };
}

export function ipv4Number(v: string): number {
  return v.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const cidr = refine(string({ min: 9, max: 18, pattern: /^[0-9.]+\/[0-9]{1,2}$/ }), (v, path, issues) => {
  const c = parseCidr(v);
  if (!c) return void issues.push(`${path || '(root)'}: ${JSON.stringify(v)} is not an IPv4 address with its prefix length (for example 192.168.1.64/24)`);
  const host = c.prefix >= 31 ? 1 : c.address % 2 ** (32 - c.prefix);
  if (c.prefix < 31 && (host === 0 || host === 2 ** (32 - c.prefix) - 1)) issues.push(`${path || '(root)'}: ${v} is the network's or its broadcast address, not a host's`);
});

/** A host name or an IPv4 address; no scheme, port or spaces. */
export const hostName = string({ min: 1, max: 253, pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/ });

const lanShape = object({
  managed: boolean()
    .default(true)
    .describe('the firmware sets the LAN address from these settings; false: the address the OS was given stays (boxes upgraded from before these settings start so)'),
  dhcp: boolean().default(true).describe('take the address, gateway and DNS from the LAN\'s DHCP server; false: the static address below'),
  address: nullable(cidr).default(null).describe('static IPv4 address with its prefix length, e.g. 192.168.1.64/24 (used when dhcp is false)'),
  gateway: nullable(ipv4).default(null).describe('default gateway (static address only); null: no route beyond the LAN'),
  dns: array(ipv4, { max: 3 }).default([]).describe('DNS servers; with DHCP they are used besides the ones DHCP gives'),
});

export const lanSchema = refine(lanShape, (v, path, issues) => {
  const at = path || '(root)';
  if (v.managed && !v.dhcp && v.address === null) issues.push(`${at}: a static address is needed when dhcp is false`);
  // Checked with DHCP on too: an installer fills in the static fields before unticking DHCP.
  if (v.gateway !== null && v.address !== null) {
    const c = parseCidr(v.address);
    const net = (n: number) => (c ? Math.floor(n / 2 ** (32 - c.prefix)) : 0);
    if (c && net(c.address) !== net(ipv4Number(v.gateway))) issues.push(`${at}.gateway: ${v.gateway} is outside ${v.address}: the box could not reach it`);
  }
});
export type LanSettings = Infer<typeof lanSchema>;

export const ntpSchema = object({
  enabled: boolean().default(true).describe('keep the clock set from the NTP servers (recordings and schedules follow this clock)'),
  servers: array(hostName, { max: 4 }).default([]).describe('NTP server names or addresses (pool.ntp.org, a router), tried in order; empty: those the LAN\'s DHCP server gives, else the OS\'s own'),
});
export type NtpSettings = Infer<typeof ntpSchema>;
