/**
 * The OS files for the `network.lan` and `network.ntp` settings: a
 * systemd-networkd `.network` file for the LAN interface and a
 * systemd-timesyncd drop-in. Pure: text in, text out; the service writes it.
 *
 * The settings were validated by the config schema already. Every value is
 * still checked here, character by character, before it goes behind a
 * `Key=`: systemd's INI parser starts a section at a line beginning with
 * '[', a key at any new line, joins a line ending in '\' to the next one and
 * splits NTP= and Name= at white space, so none of those may come from a
 * setting, whatever a later schema change lets through.
 */
import { isIPv4 } from 'node:net';
import { parseCidr, type LanSettings, type NtpSettings } from '../../config/network.js';

export const NETWORKD_FILE = '10-dvr-lan.network';
export const TIMESYNCD_FILE = 'dvr.conf';

export class NetworkRenderError extends Error {
  override name = 'NetworkRenderError';
}

// C0 and C1 controls (newlines included), DEL, Unicode line/paragraph separators, white space,
// section brackets, the line-continuation backslash and quotes (NTP= and Name= are split into words with quoting).
const UNSAFE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029[\]\\"']/u;

/** A value safe to write after `Key=`, or a NetworkRenderError naming the setting. */
function safe(setting: string, v: unknown, valid: (v: string) => boolean, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || UNSAFE.test(v) || !valid(v)) {
    const shown = typeof v === 'string' ? JSON.stringify(v.slice(0, 80)) : String(v);
    throw new NetworkRenderError(`${setting}: ${shown} is not ${what}; nothing was written`);
  }
  return v;
}

// Linux interface names: 1..15 bytes (IFNAMSIZ 16), no '/', ':' or white space; networkd's Name= also reads glob characters.
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
// A host name or IPv4 address as config/network.ts accepts it, checked again.
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const ipv4 = (setting: string, v: unknown) => safe(setting, v, isIPv4, 'an IPv4 address');

function header(settings: string): string[] {
  return [
    `# Written by the DVR firmware from its ${settings} settings: it will be overwritten.`,
    '# Change the settings (web page, or `dvr config set`), not this file.',
    '',
  ];
}

/**
 * `10-dvr-lan.network`: DHCP (with any extra DNS servers besides DHCP's) or
 * a static address. With NTP servers of its own, the box ignores those DHCP
 * offers: timesyncd would otherwise try DHCP's first (per-link servers take
 * precedence over NTP= in timesyncd.conf).
 */
export function renderNetworkd(lan: LanSettings, ntp: NtpSettings, lanInterface: string): string {
  const name = safe('network.lanInterface', lanInterface, (v) => IFNAME.test(v), 'a network interface name');
  const dns = lan.dns.map((d, i) => `DNS=${ipv4(`network.lan.dns[${i}]`, d)}`);
  const lines = [...header('network.lan'), '[Match]', `Name=${name}`, '', '[Network]'];
  if (lan.dhcp) {
    lines.push('DHCP=ipv4', ...dns, '', '[DHCPv4]', 'UseDNS=yes', `UseNTP=${ntp.servers.length === 0 ? 'yes' : 'no'}`);
  } else {
    if (lan.address === null) throw new NetworkRenderError('network.lan.address: a static address is needed when dhcp is false; nothing was written');
    lines.push('DHCP=no', `Address=${safe('network.lan.address', lan.address, (v) => parseCidr(v) !== null, 'an IPv4 address with its prefix length')}`);
    if (lan.gateway !== null) lines.push(`Gateway=${ipv4('network.lan.gateway', lan.gateway)}`);
    lines.push(...dns);
  }
  return lines.join('\n') + '\n';
}

/**
 * `timesyncd.conf.d/dvr.conf`: the NTP servers, or an empty NTP= (the ones
 * DHCP gives, then the distribution's FallbackNTP=). Whether time sync runs
 * at all is `network.ntp.enabled`, applied with `timedatectl set-ntp`.
 */
export function renderTimesyncd(ntp: NtpSettings): string {
  const servers = ntp.servers.map((s, i) => safe(`network.ntp.servers[${i}]`, s, (v) => v.length <= 253 && HOST.test(v), 'a host name or IPv4 address'));
  const lines = [
    ...header('network.ntp'),
    '# Whether time sync runs at all is network.ntp.enabled (timedatectl set-ntp).',
    ...(servers.length === 0 ? ['# No servers: those DHCP gives, then the FallbackNTP= of timesyncd.conf.'] : []),
    '[Time]',
    `NTP=${servers.join(' ')}`,
  ];
  return lines.join('\n') + '\n';
}

export interface NetworkFiles {
  /** Text of `10-dvr-lan.network`; null when network.lan.managed is false (the OS's address stays). */
  networkd: string | null;
  /** Text of `timesyncd.conf.d/dvr.conf`. */
  timesyncd: string;
}

/** Both files, or a NetworkRenderError before either is produced. */
export function renderNetworkFiles(lan: LanSettings, ntp: NtpSettings, lanInterface: string): NetworkFiles {
  return { networkd: lan.managed ? renderNetworkd(lan, ntp, lanInterface) : null, timesyncd: renderTimesyncd(ntp) };
}
