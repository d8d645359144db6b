import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lanSchema, ntpSchema, type LanSettings, type NtpSettings } from '../../../../firmware/config/network.js';
import { EventBus } from '../../../../firmware/core/bus.js';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { NetworkService, type NetworkBoard } from '../../../../firmware/system/network/network-service.js';
import { renderNetworkFiles } from '../../../../firmware/system/network/render.js';

// Every test injects `run` or uses apply 'none': nothing here may reach this machine's networkctl or timedatectl.

const RELOAD = '/usr/bin/networkctl reload';
const RESTART_TIMESYNCD = '/usr/bin/systemctl try-restart systemd-timesyncd.service';
const NTP_ON = '/usr/bin/timedatectl set-ntp true';
const NTP_OFF = '/usr/bin/timedatectl set-ntp false';

function setup(t: Test, board: Partial<NetworkBoard> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dvr-net-'));
  const settings: { lan: LanSettings; ntp: NtpSettings } = { lan: lanSchema.parse({}), ntp: ntpSchema.parse({}) };
  const commands: string[] = [];
  const fail = new Map<string, string>();
  const bus = new EventBus();
  const log = memoryLogger('network');
  const b: NetworkBoard = {
    lanInterface: 'eth0',
    networkdDir: join(dir, 'etc/systemd/network'),
    timesyncdDir: join(dir, 'etc/systemd/timesyncd.conf.d'),
    apply: 'systemd',
    ...board,
  };
  const make = () =>
    new NetworkService({
      log,
      bus,
      settings: () => structuredClone(settings),
      board: b,
      dataDir: join(dir, 'data'),
      clock: { now: () => 1_700_000_000_000 },
      run: async (file, args) => {
        const cmd = [file, ...args].join(' ');
        commands.push(cmd);
        const stderr = fail.get(cmd);
        // The shape runFile rejects with: the command, then its stderr.
        if (stderr !== undefined) throw new Error(`${cmd}: ${stderr}`);
        return '';
      },
    });
  const svc = make();
  t.teardown(() => svc.stop());
  const files = { networkd: join(b.networkdDir, '10-dvr-lan.network'), timesyncd: join(b.timesyncdDir, 'dvr.conf') };
  /** Commands run since the last call. */
  const ran = () => commands.splice(0);
  const changed = async (s: NetworkService, ...paths: string[]) => {
    bus.emit('configChanged', { paths, at: 0 });
    await s.idle();
  };
  return { dir, settings, fail, bus, log, svc, make, files, ran, changed };
}

const inode = (f: string) => statSync(f).ino;

t.test('managed: start writes both files, readable by the daemons, and runs the three commands', async (t) => {
  const { svc, files, ran, settings } = setup(t);
  const umask = process.umask(0o077); // dvr.service's UMask
  t.teardown(() => void process.umask(umask));
  await svc.start();
  const expected = renderNetworkFiles(settings.lan, settings.ntp, 'eth0');
  t.equal(readFileSync(files.networkd, 'utf8'), expected.networkd);
  t.equal(readFileSync(files.timesyncd, 'utf8'), expected.timesyncd);
  t.same(ran(), [RELOAD, RESTART_TIMESYNCD, NTP_ON], 'reload networkd, restart timesyncd if it runs, time sync on');
  t.equal(statSync(files.networkd).mode & 0o777, 0o644, 'systemd-network can read the .network file despite umask 077');
  t.equal(statSync(files.timesyncd).mode & 0o777, 0o644);
  t.equal(statSync(join(files.timesyncd, '..')).mode & 0o777, 0o755, 'the drop-in directory it created can be entered by systemd-timesync');
  t.same(svc.status(), { managed: true, interface: 'eth0', files: [files.networkd, files.timesyncd], lastApply: { at: 1_700_000_000_000, ok: true } });
});

t.test('managed: a change of network.* applies what changed; other paths and equal settings do nothing', async (t) => {
  const { svc, files, ran, settings, changed } = setup(t);
  await svc.start();
  ran();
  const before = { networkd: inode(files.networkd), timesyncd: inode(files.timesyncd) };

  settings.lan.dns = ['9.9.9.9'];
  await changed(svc, 'system.name');
  t.same(ran(), [], 'another setting: nothing runs (even though network.lan differs now)');
  t.equal(inode(files.networkd), before.networkd, 'and nothing is written');

  await changed(svc, 'network.lan.dns');
  t.same(ran(), [RELOAD], 'a DNS server: only networkd reloads');
  t.match(readFileSync(files.networkd, 'utf8'), /^DNS=9\.9\.9\.9$/m);
  t.equal(inode(files.timesyncd), before.timesyncd, 'the unchanged drop-in is not rewritten');

  settings.ntp.servers = ['ntp1.example', 'ntp2.example'];
  await changed(svc, 'network.ntp');
  t.same(ran(), [RELOAD, RESTART_TIMESYNCD], 'servers of its own: DHCP\'s NTP offers ignored (networkd) and timesyncd restarts');
  t.match(readFileSync(files.timesyncd, 'utf8'), /^NTP=ntp1\.example ntp2\.example$/m);

  settings.ntp.servers = ['ntp1.example'];
  await changed(svc, 'network.ntp');
  t.same(ran(), [RESTART_TIMESYNCD], 'other servers: only timesyncd restarts');

  settings.ntp.servers = [];
  await changed(svc, 'network.ntp.servers');
  t.same(ran(), [RELOAD, RESTART_TIMESYNCD], 'no servers: DHCP\'s NTP servers are taken again (networkd) and timesyncd restarts');

  settings.ntp.enabled = false;
  await changed(svc, 'network.ntp.enabled');
  t.same(ran(), [NTP_OFF], 'time sync off: timedatectl only');
  settings.ntp.servers = ['ntp3.example'];
  await changed(svc, 'network');
  t.same(ran(), [RELOAD], 'servers changed while off: no restart of a stopped timesyncd');
  settings.ntp.enabled = true;
  await changed(svc, '');
  t.same(ran(), [RESTART_TIMESYNCD, NTP_ON], 'on again: the restart kept for then, and time sync on');

  const now = { networkd: inode(files.networkd), timesyncd: inode(files.timesyncd) };
  await changed(svc, '');
  await changed(svc, 'network.lan');
  t.same(ran(), [], 'the whole config saved with the same network settings: nothing runs');
  t.same({ networkd: inode(files.networkd), timesyncd: inode(files.timesyncd) }, now, 'nothing is rewritten');

  settings.lan = lanSchema.parse({ managed: true, dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1' });
  changed(svc, 'network.lan.dhcp');
  changed(svc, 'network.lan.address');
  await changed(svc, 'network.lan.gateway');
  t.same(ran(), [RELOAD], 'three changes at once: one reload');
  t.match(readFileSync(files.networkd, 'utf8'), /^Address=192\.168\.1\.64\/24\nGateway=192\.168\.1\.1$/m);
});

t.test('a restarted firmware rewrites nothing and only states the time sync setting', async (t) => {
  const { svc, files, ran, make } = setup(t);
  await svc.start();
  await svc.stop();
  ran();
  const before = inode(files.networkd);
  const again = make();
  t.teardown(() => again.stop());
  await again.start();
  t.same(ran(), [NTP_ON], 'the OS time sync state is unknown at start: set-ntp, which changes nothing when it is so already');
  t.equal(inode(files.networkd), before);
});

t.test('a failing command is logged with its stderr and reported, never thrown, and run again at the next change', async (t) => {
  const { svc, ran, fail, log, settings, changed } = setup(t);
  fail.set(RELOAD, 'Failed to reload network settings: Unit dbus-org.freedesktop.network1.service not found.');
  fail.set(NTP_ON, 'Failed to set ntp: NTP not supported');
  await svc.start();
  t.same(ran(), [RELOAD, RESTART_TIMESYNCD, NTP_ON], 'a failure does not stop the other commands');
  const status = svc.status();
  t.equal(status.lastApply?.ok, false);
  t.match(status.lastApply?.error, /networkctl reload: Failed to reload network settings: Unit dbus-org\.freedesktop\.network1\.service not found\.; .*timedatectl set-ntp true: Failed to set ntp: NTP not supported/);
  const errors = log.ring.tail(10, 'error');
  t.same(
    errors.map((r) => [r.msg, r.command]),
    [
      ['network: a command failed', RELOAD],
      ['network: a command failed', NTP_ON],
    ],
  );
  t.match(errors[0]!.error, /Unit dbus-org\.freedesktop\.network1\.service not found/, 'the log has the stderr');

  fail.clear();
  settings.lan.dns = ['1.1.1.1'];
  await changed(svc, 'system.name');
  t.same(ran(), [], 'not on another setting');
  settings.lan.dns = [];
  await changed(svc, 'network.lan.dns');
  t.same(ran(), [RELOAD, NTP_ON], 'the file is as before, but the failed commands run again');
  t.same(svc.status().lastApply, { at: 1_700_000_000_000, ok: true });
  await changed(svc, 'network.lan.dns');
  t.same(ran(), [], 'and once they succeeded, not again');
});

t.test('settings the renderer refuses: nothing written, nothing run, the reason in status', async (t) => {
  const { svc, ran, files, settings } = setup(t);
  settings.ntp.servers = ['pool.ntp.org\n[Network]'];
  await svc.start();
  t.same(ran(), []);
  t.notOk(existsSync(files.networkd), 'not even the file that would have been fine');
  t.match(svc.status().lastApply, { ok: false, error: /^network\.ntp\.servers\[0\]: "pool\.ntp\.org\\n\[Network\]" is not a host name/ });
});

t.test('a file that cannot be written is reported; the other one is still written and applied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvr-net-'));
  writeFileSync(join(dir, 'not-a-dir'), '');
  const { svc, ran, files } = setup(t, { networkdDir: join(dir, 'not-a-dir', 'network') });
  await svc.start();
  t.same(ran(), [RESTART_TIMESYNCD, NTP_ON], 'no reload for a file that is not there');
  t.ok(existsSync(files.timesyncd));
  t.match(svc.status().lastApply, { ok: false, error: /ENOTDIR/ });
});

t.test('apply none: the files go under the data directory, nothing runs, the log says so once', async (t) => {
  const { svc, ran, dir, files, log, settings, changed } = setup(t, { apply: 'none' });
  await svc.start();
  await svc.stop();
  await svc.start();
  settings.lan.dns = ['9.9.9.9'];
  await changed(svc, 'network.lan');
  t.same(ran(), [], 'no command at all');
  t.notOk(existsSync(join(dir, 'etc')), 'the OS directories are not touched');
  t.notOk(existsSync(files.networkd));
  const inspect = { networkd: join(dir, 'data/network/10-dvr-lan.network'), timesyncd: join(dir, 'data/network/timesyncd.conf.d/dvr.conf') };
  t.equal(readFileSync(inspect.networkd, 'utf8'), renderNetworkFiles(settings.lan, settings.ntp, 'eth0').networkd);
  t.equal(readFileSync(inspect.timesyncd, 'utf8'), renderNetworkFiles(settings.lan, settings.ntp, 'eth0').timesyncd);
  t.same(svc.status(), { managed: false, interface: 'eth0', files: [inspect.networkd, inspect.timesyncd], lastApply: { at: 1_700_000_000_000, ok: true } });
  const told = log.ring.tail().filter((r) => /not managed/.test(r.msg));
  t.equal(told.length, 1, 'said once, not at every start');
  t.match(told[0]!.msg, /network\.manage none/);
});

t.test('no LAN interface in the profile: not managed even with apply systemd; the inspection copy matches no interface', async (t) => {
  const { svc, ran, dir, log } = setup(t, { lanInterface: null });
  await svc.start();
  t.same(ran(), []);
  t.match(readFileSync(join(dir, 'data/network/10-dvr-lan.network'), 'utf8'), /^Name=dvr-no-lan$/m);
  t.match(svc.status(), { managed: false, interface: null });
  t.match(log.ring.tail().map((r) => r.msg), [/not managed on this board \(the board profile names no LAN interface\)/]);
});

t.test('stopped: a change of the settings does nothing', async (t) => {
  const { svc, ran, settings, changed } = setup(t);
  await svc.start();
  await svc.stop();
  ran();
  settings.lan.dns = ['9.9.9.9'];
  await changed(svc, 'network.lan');
  t.same(ran(), []);
});
