// Boots the virtual board once (scripts/vboard/) and checks, with the real
// tools inside the guest, that every device path of board/vboard/profile.json
// is there and is what the profile says it is: four vivid capture nodes and
// the vicodec encoder, the gpio-sim chip and its named lines, the SATA disks,
// the watchdog, the vkms card, the input devices (and the front panel's key
// injection), the RS-485 port (bytes both ways through the host socket), the
// forwarded web port, and node with koffi.
// Skips with a reason when DVR_SKIP_VBOARD=1 or QEMU cannot be had.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Vboard = typeof import('../../../scripts/vboard/vboard.js');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Line {
  name: string;
  chip: string;
  line: number;
}
interface Profile {
  capture: { device: string }[];
  encoder: { device: string };
  rs485: { port: string }[];
  gpio: { alarmInputs: Line[]; relays: Line[]; buzzer: Line };
  input: { frontPanel: string; ir: string };
  display: { card: string; connector: string };
  sata: { path: string }[];
  watchdog: string;
}
const profile = JSON.parse(readFileSync(join(root, 'board/vboard/profile.json'), 'utf8')) as Profile;

const PING = 'vboard-rs485-ping';
const PONG = 'vboard-rs485-pong';
const HTTP_BODY = 'vboard-http-ok';

// Runs in the guest (busybox is not on its PATH: these are the host's tools).
const guestScript = `
section() { echo "=== $1"; }
section devices
for p in ${[
  ...profile.capture.map((c) => c.device),
  profile.encoder.device,
  '/dev/gpiochip0',
  ...profile.sata.map((s) => s.path),
  profile.watchdog,
  profile.display.card,
  ...profile.rs485.map((r) => r.port),
  profile.input.frontPanel,
  profile.input.ir,
].join(' ')}; do
  if [ -c "$p" ] || [ -b "$p" ]; then echo "present $p"; else echo "missing $p"; fi
done
section list-devices
v4l2-ctl --list-devices 2>&1
section encoder
v4l2-ctl -d ${profile.encoder.device} --info --list-formats --list-formats-out 2>&1
section gpioinfo
gpioinfo gpiochip0 2>&1
section gpio-sim
sim=/sys/devices/platform/gpio-sim.0/gpiochip0
echo pull-up > $sim/sim_gpio0/pull
echo "pulled-up $(gpioget gpiochip0 0)"
echo pull-down > $sim/sim_gpio0/pull
echo "pulled-down $(gpioget gpiochip0 0)"
section panel
(timeout 20 head -c 48 ${profile.input.frontPanel} | od -An -v -tx1 | tr -d ' \n' > /tmp/panel.hex) &
sleep 1
echo 28 > /dev/vboard-panel
wait
echo "events $(cat /tmp/panel.hex)"
section disks
for d in /sys/block/sd*; do echo "$(basename $d) $(cat $d/device/model)"; done
section watchdog
cat /sys/class/watchdog/watchdog0/identity
section drm
ls /sys/class/drm
section input
for e in /sys/class/input/event*; do echo "$(basename $e) $(cat $e/device/name)"; done
section rs485
exec 3<>${profile.rs485[0]!.port}
stty raw -echo 115200 <&3
printf '${PING}\\n' >&3
echo "received $(timeout 30 head -c ${PONG.length + 1} <&3)"
exec 3<&-
section node
node -e "const k=require('koffi'); const getpid=k.load('libc.so.6').func('int getpid()'); console.log('koffi', k.version, 'getpid', getpid())" 2>&1
section http
timeout 90 node -e "let t; const s=require('http').createServer((q,r)=>{r.end('${HTTP_BODY}'); t ??= setTimeout(()=>s.close(), 10000)}); s.listen(8080, ()=>console.log('listening'))" 2>&1
echo "http exit $?"
`;

/** The output of the guest script split on its "=== name" lines. */
function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  for (const line of stdout.split('\n')) {
    const m = /^=== (\S+)$/.exec(line);
    if (m) {
      name = m[1]!;
      out.set(name, '');
    } else if (name) out.set(name, out.get(name)! + line + '\n');
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Plays the host end of the RS-485 bus: answers the guest's ping with a pong. */
function rs485Peer(path: string, done: () => boolean): Promise<string> {
  return new Promise((res) => {
    let received = '';
    const attempt = () => {
      if (done()) return res(received);
      const sock: Socket = connect(path);
      sock.on('error', () => setTimeout(attempt, 200));
      sock.on('connect', () => {
        sock.on('data', (b: Buffer) => {
          received += b.toString('latin1');
          if (received.includes(PING)) sock.write(PONG + '\n');
        });
        sock.on('close', () => res(received));
      });
    };
    attempt();
  });
}

/**
 * Fetches the guest's web port through the forward until it answers or the guest is gone.
 * The guest keeps serving for 10 s after its first request: on a loaded host the emulated
 * guest can answer after a fetch has given up, and a server that closed on that first
 * request left every retry with nothing to reach.
 */
async function httpPeer(port: number, done: () => boolean): Promise<string> {
  while (!done()) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(15000) });
      return await r.text();
    } catch {
      await sleep(500);
    }
  }
  return '';
}

let reason: string | null = process.env.DVR_SKIP_VBOARD === '1' ? 'DVR_SKIP_VBOARD=1' : null;
let vb: Vboard | undefined;
if (!reason) {
  vb = await import('../../../scripts/vboard/vboard.js');
  reason = vb.vboardUnavailable();
  if (reason && process.getuid?.() === 0) {
    // A machine that has not run `make deps-test` yet: install and look again.
    spawnSync('bash', [join(root, 'scripts/install-deps.sh'), 'test'], { stdio: 'ignore' });
    reason = vb.vboardUnavailable();
  }
}

if (reason || !vb) {
  console.log(`# vboard: skipped: ${reason}`);
  t.plan(0, `vboard: ${reason}`);
} else {
  const board = vb;
  // The first build downloads and compiles for minutes (package.json's
  // per-file limit is 120 s); cached runs take about a minute.
  t.setTimeout(1_500_000);
  t.test('builds the virtual board (cached under var/vboard/)', { timeout: 1_200_000 }, async (t) => {
    await board.buildVboard();
    t.pass('built');
  });

  t.test('the guest presents every device of the vboard profile', { timeout: 300_000 }, async (t) => {
    const socket = join(root, `var/vboard/test-rs485-${process.pid}.sock`);
    rmSync(socket, { force: true });
    const httpPort = await freePort();
    let finished = false;
    const run = board.runInVboard(guestScript, { rs485Socket: socket, httpPort, timeoutMs: 240_000 }).finally(() => {
      finished = true;
    });
    const [result, rs485, http] = await Promise.all([run, rs485Peer(socket, () => finished), httpPeer(httpPort, () => finished)]);
    rmSync(socket, { force: true });
    t.equal(result.code, 0, 'the guest script ran and exited 0', { stderr: result.stderr.slice(-3000) });
    const s = sections(result.stdout);

    const devices = s.get('devices') ?? '';
    t.notMatch(devices, /missing/, 'every profile device node exists', { devices });

    const list = s.get('list-devices') ?? '';
    for (const [i, c] of profile.capture.entries()) {
      t.match(list, new RegExp(`vivid \\(platform:vivid-00${i}\\):\\n\\s+${c.device}\\n`), `${c.device} is vivid instance ${i}`);
    }
    t.match(list, new RegExp(`vicodec \\(platform:vicodec\\):\\n\\s+${profile.encoder.device}\\n`), `${profile.encoder.device} is vicodec's first node`);
    const enc = s.get('encoder') ?? '';
    t.match(enc, /Driver name\s+: vicodec/, 'the encoder is vicodec');
    t.match(enc, /Type: Video Capture\n(\s+\[\d+\].*\n)*?\s+\[\d+\]: 'FWHT' \(FWHT, compressed\)/, 'its capture (output) queue is FWHT: the stateful encoder');

    const gpio = s.get('gpioinfo') ?? '';
    t.match(gpio, /gpiochip0 - 8 lines:/, 'gpiochip0 has 8 lines');
    for (const l of [...profile.gpio.alarmInputs, ...profile.gpio.relays, profile.gpio.buzzer]) {
      t.equal(l.chip, '/dev/gpiochip0', `${l.name} is on gpiochip0`);
      t.match(gpio, new RegExp(`line\\s+${l.line}:\\s+"${l.name}"`), `line ${l.line} is ${l.name}`);
    }

    const sim = s.get('gpio-sim') ?? '';
    t.match(sim, /pulled-up 1\npulled-down 0/, "gpio-sim's pull attribute drives the line that gpioget reads");
    // struct input_event on x86_64: 16 bytes of time, then type, code (LE u16), value (LE s32).
    const events = /events ([0-9a-f]*)/.exec(s.get('panel') ?? '')?.[1] ?? '';
    t.equal(events.slice(32, 48), '01001c0001000000', 'a key written to /dev/vboard-panel is EV_KEY KEY_ENTER pressed on the front panel node');

    const disks = s.get('disks') ?? '';
    t.match(disks, /^sda VBOARD-SATA-0/m, 'sda is the disk on AHCI port 0');
    t.match(disks, /^sdb VBOARD-SATA-1/m, 'sdb is the disk on AHCI port 1');
    t.match(s.get('watchdog') ?? '', /i6300ESB/, 'the watchdog is the i6300ESB');
    t.match(s.get('drm') ?? '', new RegExp(`^${profile.display.card.split('/').pop()}-${profile.display.connector}$`, 'm'), 'vkms card0 has connector Virtual-1');

    const input = s.get('input') ?? '';
    t.match(input, new RegExp(`^${profile.input.frontPanel.split('/').pop()} vboard front panel$`, 'm'), 'front panel (uinput) is the profile event node');
    t.match(input, new RegExp(`^${profile.input.ir.split('/').pop()} rc-core loopback device$`, 'm'), 'IR (rc-loopback) is the profile event node');

    t.ok(rs485.includes(PING), 'bytes written to the guest ttyS1 arrive on the host socket', { rs485 });
    t.match(s.get('rs485') ?? '', new RegExp(`received ${PONG}`), 'bytes written to the host socket arrive on the guest ttyS1');

    t.match(s.get('node') ?? '', /^koffi \d+\.\d+\.\d+ getpid \d+$/m, 'node runs in the guest and koffi calls libc');
    t.equal(http, HTTP_BODY, 'the guest web port 8080 answers on the forwarded host port');
    t.match(s.get('http') ?? '', /listening\nhttp exit 0/, 'the guest web server saw the request');
  });
}
