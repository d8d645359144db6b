import t from 'tap';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lanSchema, ntpSchema, type LanSettings, type NtpSettings } from '../../../../firmware/config/network.js';
import { NetworkRenderError, renderNetworkFiles, renderNetworkd, renderTimesyncd } from '../../../../firmware/system/network/render.js';

const lan = (v: Partial<LanSettings> = {}): LanSettings => lanSchema.parse(v);
const ntp = (v: Partial<NtpSettings> = {}): NtpSettings => ntpSchema.parse(v);
const HEADER_LAN = [
  '# Written by the DVR firmware from its network.lan settings: it will be overwritten.',
  '# Change the settings (web page, or `dvr config set`), not this file.',
  '',
];

t.test('DHCP, the default: DHCP=ipv4, DHCP\'s DNS and NTP servers taken', async (t) => {
  t.equal(
    renderNetworkd(lan(), ntp(), 'eth0'),
    [...HEADER_LAN, '[Match]', 'Name=eth0', '', '[Network]', 'DHCP=ipv4', '', '[DHCPv4]', 'UseDNS=yes', 'UseNTP=yes', ''].join('\n'),
  );
  t.equal(
    renderNetworkd(lan(), ntp({ servers: ['pool.ntp.org'] }), 'eth0'),
    [...HEADER_LAN, '[Match]', 'Name=eth0', '', '[Network]', 'DHCP=ipv4', '', '[DHCPv4]', 'UseDNS=yes', 'UseNTP=no', ''].join('\n'),
    'NTP servers of its own: DHCP\'s offers ignored, so its list is tried in its order',
  );
});

t.test('lan.managed false: no .network file at all (the OS keeps the address it has)', async (t) => {
  const files = renderNetworkFiles(lan({ managed: false, dhcp: false }), ntp(), 'eth0');
  t.equal(files.networkd, null);
  t.match(files.timesyncd, /^NTP=$/m, 'NTP is still the firmware\'s');
});

t.test('DHCP with extra DNS servers: DNS= lines, and DHCP\'s servers still used', async (t) => {
  const text = renderNetworkd(lan({ dns: ['9.9.9.9', '1.1.1.1'] }), ntp({ servers: [] }), 'end0');
  t.equal(text, [...HEADER_LAN, '[Match]', 'Name=end0', '', '[Network]', 'DHCP=ipv4', 'DNS=9.9.9.9', 'DNS=1.1.1.1', '', '[DHCPv4]', 'UseDNS=yes', 'UseNTP=yes', ''].join('\n'));
});

t.test('a static address with gateway and DNS', async (t) => {
  const text = renderNetworkd(lan({ managed: true, dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] }), ntp(), 'eth0');
  t.equal(text, [...HEADER_LAN, '[Match]', 'Name=eth0', '', '[Network]', 'DHCP=no', 'Address=192.168.1.64/24', 'Gateway=192.168.1.1', 'DNS=192.168.1.1', 'DNS=9.9.9.9', ''].join('\n'));
  t.notMatch(text, /DHCPv4/, 'no DHCP section for a static address');
  const noGw = renderNetworkd(lan({ managed: true, dhcp: false, address: '10.0.0.5/8' }), ntp(), 'eth0');
  t.notMatch(noGw, /Gateway=|DNS=/, 'no gateway and no DNS: neither line');
});

t.test('NTP servers: one space-separated NTP= line; none: an empty NTP= (DHCP\'s, then the fallback)', async (t) => {
  const header = [
    '# Written by the DVR firmware from its network.ntp settings: it will be overwritten.',
    '# Change the settings (web page, or `dvr config set`), not this file.',
    '',
    '# Whether time sync runs at all is network.ntp.enabled (timedatectl set-ntp).',
  ];
  t.equal(renderTimesyncd(ntp({ servers: ['0.debian.pool.ntp.org', '192.168.1.1'] })), [...header, '[Time]', 'NTP=0.debian.pool.ntp.org 192.168.1.1', ''].join('\n'));
  t.equal(renderTimesyncd(ntp({ servers: [] })), [...header, '# No servers: those DHCP gives, then the FallbackNTP= of timesyncd.conf.', '[Time]', 'NTP=', ''].join('\n'));
});

t.test('NTP disabled: the files do not change (the service turns time sync off with timedatectl instead)', async (t) => {
  const on = renderNetworkFiles(lan(), ntp({ servers: ['a.example'] }), 'eth0');
  const off = renderNetworkFiles(lan(), ntp({ enabled: false, servers: ['a.example'] }), 'eth0');
  t.same(off, on);
});

t.test('a value that could start a section or a key, or change how a line is read, is refused', async (t) => {
  const refused = (what: string, fn: () => unknown, message: RegExp) => t.throws(fn, { name: 'NetworkRenderError', message }, what);
  // The schema would refuse all of these; the renderer must too, on its own.
  const raw = (v: Record<string, unknown>) => ({ ...lan(), ...v }) as LanSettings;
  refused('a newline and a section in a DNS server', () => renderNetworkd(raw({ dns: ['1.1.1.1\n[Network]'] }), ntp(), 'eth0'), /^network\.lan\.dns\[0\]: "1\.1\.1\.1\\n\[Network\]" is not an IPv4 address/);
  refused('a key after a carriage return in the gateway', () => renderNetworkd(raw({ managed: true, dhcp: false, address: '10.0.0.2/24', gateway: '10.0.0.1\rDNS=6.6.6.6' }), ntp(), 'eth0'), /^network\.lan\.gateway:/);
  refused('a second line in the address', () => renderNetworkd(raw({ managed: true, dhcp: false, address: '10.0.0.2/24\nGateway=6.6.6.6' }), ntp(), 'eth0'), /^network\.lan\.address:/);
  refused('a bracket in an NTP server', () => renderTimesyncd({ enabled: true, servers: ['[Time]'] }), /^network\.ntp\.servers\[0\]:/);
  refused('a newline in an NTP server', () => renderTimesyncd({ enabled: true, servers: ['pool.ntp.org', 'x\nFallbackNTP=evil'] }), /^network\.ntp\.servers\[1\]:/);
  refused('a space in an NTP server (NTP= splits at it)', () => renderTimesyncd({ enabled: true, servers: ['a.example b.example'] }), /servers\[0\]/);
  refused('a trailing backslash (joins the next line)', () => renderTimesyncd({ enabled: true, servers: ['a.example\\'] }), /servers\[0\]/);
  refused('a NUL byte', () => renderTimesyncd({ enabled: true, servers: ['a\u0000b'] }), /servers\[0\]/);
  refused('a C1 control (NEL)', () => renderTimesyncd({ enabled: true, servers: ['a\u0085b'] }), /servers\[0\]/);
  refused('a Unicode line separator', () => renderTimesyncd({ enabled: true, servers: ['a\u2028b'] }), /servers\[0\]/);
  refused('an empty NTP server', () => renderTimesyncd({ enabled: true, servers: [''] }), /servers\[0\]/);
  refused('an interface name with a newline', () => renderNetworkd(lan(), ntp(), 'eth0\n[Network]'), /^network\.lanInterface:/);
  refused('a glob or a list as the interface (Name= would match others)', () => renderNetworkd(lan(), ntp(), 'eth*'), /^network\.lanInterface:/);
  refused('two interfaces', () => renderNetworkd(lan(), ntp(), 'eth0 wlan0'), /^network\.lanInterface:/);
  refused('an interface name longer than the kernel allows', () => renderNetworkd(lan(), ntp(), 'a'.repeat(16)), /^network\.lanInterface:/);
  refused('a static configuration without its address', () => renderNetworkd(raw({ managed: true, dhcp: false, address: null }), ntp(), 'eth0'), /^network\.lan\.address: a static address is needed/);
  t.throws(() => renderNetworkFiles(lan(), { enabled: true, servers: ['ok.example', 'x]'] }, 'eth0'), NetworkRenderError, 'either file refused: both refused');
});

// Valid values, valid values with anything around them, and anything at all.
const valid = fc.constantFrom('10.0.0.1', '10.0.0.2/24', 'eth0', 'pool.ntp.org');
const junk = fc.string({ unit: 'binary', maxLength: 6 });
const value = fc.oneof(valid, fc.tuple(junk, valid, junk).map(([a, v, b]) => a + v + b), fc.string({ unit: 'binary', maxLength: 40 }));

t.test('whatever a string holds, the output keeps its sections and one key a line', async (t) => {
  const sections = (text: string) => text.split('\n').filter((l) => l.startsWith('['));
  const wellFormed = (text: string) => text.split('\n').every((l) => l === '' || l.startsWith('# ') || /^\[[A-Za-z0-9]+\]$/.test(l) || /^[A-Za-z0-9]+=[^\\\s"'[\]]*(?: [^\\\s"'[\]]+)*$/.test(l));
  fc.assert(
    fc.property(value, fc.constantFrom('dns', 'gateway', 'address', 'server', 'iface'), (s, where) => {
      let text: string;
      try {
        if (where === 'server') text = renderTimesyncd({ enabled: true, servers: [s] });
        else if (where === 'iface') text = renderNetworkd(lan(), ntp(), s);
        else if (where === 'dns') text = renderNetworkd({ ...lan(), dns: [s] }, ntp(), 'eth0');
        else text = renderNetworkd({ managed: true, dhcp: false, address: where === 'address' ? s : '10.0.0.2/24', gateway: where === 'gateway' ? s : null, dns: [] }, ntp(), 'eth0');
      } catch (e) {
        return e instanceof NetworkRenderError;
      }
      const expected = where === 'server' ? ['[Time]'] : where === 'dns' || where === 'iface' ? ['[Match]', '[Network]', '[DHCPv4]'] : ['[Match]', '[Network]'];
      return wellFormed(text) && JSON.stringify(sections(text)) === JSON.stringify(expected);
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 values, in each field');
});

/**
 * No offline parser of .network files exists on a Debian box: `systemd-analyze
 * verify` refuses anything but units ("Failed to prepare filename …: Invalid
 * argument"), networkctl has no check command, and systemd-networkd needs a
 * running system (netlink, D-Bus) that a container lacks. The independent
 * judge here is systemd's own writer of the same settings:
 * systemd-network-generator turns the kernel's `ip=`/`nameserver=` arguments
 * into a .network file, so ours must say what its file says (it spells
 * Address= and Gateway= as [Address] and [Route] sections, which
 * systemd.network(5) documents as the same).
 */
const GENERATOR = '/lib/systemd/systemd-network-generator';

function generated(args: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'netgen-'));
  try {
    execFileSync(GENERATOR, [`--root=${root}`, '--', ...args]);
    const dir = join(root, 'run/systemd/network');
    const files = readdirSync(dir).filter((f) => f.endsWith('.network'));
    if (files.length !== 1) throw new Error(`expected one .network file, got ${files.join(', ')}`);
    return readFileSync(join(dir, files[0]!), 'utf8');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `section.Key=value` lines of the [Match] and [Network] settings, Address=/Gateway= folded into [Network], sorted. */
function meaning(text: string): string[] {
  const out: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
    const folded = (section === 'Address' && key === 'Address') || (section === 'Route' && key === 'Gateway') ? 'Network' : section;
    if (folded === 'Match' || folded === 'Network') out.push(`${folded}.${key}=${value}`);
  }
  return out.sort();
}

t.test('systemd-network-generator writes the same settings', { skip: existsSync(GENERATOR) ? false : `no ${GENERATOR} on this machine` }, async (t) => {
  const ours = renderNetworkd(lan({ managed: true, dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1', dns: ['192.168.1.2', '9.9.9.9'] }), ntp(), 'eth0');
  t.same(meaning(ours), meaning(generated(['ip=192.168.1.64::192.168.1.1:255.255.255.0::eth0:none', 'nameserver=192.168.1.2', 'nameserver=9.9.9.9'])), 'static');
  const dhcp = renderNetworkd(lan({ dns: ['9.9.9.9'] }), ntp(), 'end0');
  t.same(meaning(dhcp), meaning(generated(['ip=end0:dhcp', 'nameserver=9.9.9.9'])), 'DHCP with an extra DNS server');
  t.same(meaning(dhcp), ['Match.Name=end0', 'Network.DHCP=ipv4', 'Network.DNS=9.9.9.9'], 'and the comparison did compare something');
});
