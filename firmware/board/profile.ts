import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { publicKeyFromBase64 } from '../upgrade/bundle.js';
import { SchemaError, array, boolean, int, json, nullable, object, oneOf, string, type Infer } from '../core/schema.js';

/**
 * What the hardware of one board is. The firmware reads device paths from here
 * and nowhere else, so porting to a new board is writing one profile.
 * Relative paths are resolved against the firmware's var directory, which is
 * how the sim board points at file-backed disks and socat ptys.
 */

const name = string({ min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ });
const path = string({ min: 1, max: 256 });

const gpioLine = object({
  name: string({ min: 1, max: 64 }),
  chip: path.describe('GPIO character device, e.g. /dev/gpiochip0'),
  line: int({ min: 0, max: 1023 }),
  activeLow: boolean().default(false),
});

export const boardProfileSchema = object({
  name,
  description: string({ max: 500 }),
  arch: oneOf(['x64', 'arm64', 'arm'] as const),
  paths: object({
    data: path.default('/var/lib/dvr').describe('config, logs and state'),
    run: path.default('/run/dvr').describe('control socket and pid'),
  }),
  network: object({
    lanInterface: nullable(string({ min: 1, max: 15, pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/ }))
      .default(null)
      .describe('kernel name of the LAN port (at most 15 characters); null: no LAN the firmware knows of'),
    manage: oneOf(['systemd', 'none'] as const)
      .default('none')
      .describe('systemd: the network.lan and network.ntp settings are written for systemd-networkd and systemd-timesyncd and applied (networkctl, timedatectl); none: the OS network is left alone (the files go under the data directory for inspection)'),
    networkdDir: path.default('/etc/systemd/network').describe('where the LAN interface\'s .network file goes (manage: systemd)'),
    timesyncdDir: path.default('/etc/systemd/timesyncd.conf.d').describe('where the timesyncd drop-in goes (manage: systemd)'),
  }),
  capture: array(
    object({
      name,
      device: path.describe('V4L2 capture node'),
      inputs: int({ min: 1, max: 16 }).default(1),
    }),
  ).default([]),
  encoder: object({
    backend: oneOf(['v4l2-m2m', 'x264'] as const),
    device: nullable(path).default(null),
    codecs: array(oneOf(['h264', 'h265', 'fwht'] as const)).default(['h264']),
  }),
  rs485: array(
    object({
      name,
      port: path,
      direction: oneOf(['kernel-rts', 'gpio', 'none'] as const).describe(
        'kernel-rts: TIOCSRS485 drives RTS; gpio: the firmware toggles directionGpio; none: auto-direction transceiver or a pty',
      ),
      directionGpio: nullable(gpioLine).default(null),
    }),
  ).default([]),
  gpio: object({
    alarmInputs: array(gpioLine).default([]),
    relays: array(gpioLine).default([]),
    buzzer: nullable(gpioLine).default(null),
  }),
  input: object({
    frontPanel: nullable(path).default(null).describe('evdev node of the front-panel keys'),
    ir: nullable(path).default(null).describe('evdev node of the IR receiver'),
  }),
  display: object({
    card: nullable(path).default(null),
    connector: nullable(string({ max: 32 })).default(null),
  }),
  sata: array(
    object({
      bay: name,
      path: path.describe('by-path block device, or a directory on the sim board'),
      kind: oneOf(['block', 'directory'] as const).default('block'),
    }),
  ).default([]),
  watchdog: nullable(path).default(null),
  restart: oneOf(['firmware', 'board'] as const)
    .default('firmware')
    .describe('what Restart in the page does: firmware restarts the firmware process; board reboots the board (systemctl reboot)'),
  leds: array(object({ name, path })).default([]),
  upgrade: nullable(
    object({
      keys: array(string({ min: 40, max: 200, pattern: /^[A-Za-z0-9+/=]+$/ }), { max: 16 }).describe(
        'trusted firmware signing keys: each the base64 between the lines of an Ed25519 public key PEM (openssl pkey -pubout); none: no upgrade is accepted',
      ),
      root: path.default('/usr/lib/dvr').describe('where slots/, current and previous live (dvr.service runs current)'),
    }),
  )
    .default(null)
    .describe('firmware upgrade by signed bundle; null: this board takes no upgrade'),
  configDefaults: json()
    .default({})
    .describe('factory settings this board changes, deep-merged over the built-in defaults'),
});

export type BoardProfile = Infer<typeof boardProfileSchema>;

export class BoardProfileError extends Error {
  override name = 'BoardProfileError';
}

export function boardDir(): string {
  return join(packageRoot(), 'board');
}

export function listBoards(dir = boardDir()): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'profile.json')))
    .map((d) => d.name)
    .sort();
}

/** Loads board/<name>/profile.json, validates it and resolves relative paths against varDir. */
export function loadBoardProfile(boardName: string, varDir: string, dir = boardDir()): BoardProfile {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(boardName)) {
    throw new BoardProfileError(`invalid board name "${boardName.slice(0, 64)}"`);
  }
  const file = join(dir, boardName, 'profile.json');
  if (!existsSync(file)) {
    throw new BoardProfileError(`unknown board "${boardName}" (known: ${listBoards(dir).join(', ')})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BoardProfileError(`board "${boardName}": ${file} is not valid JSON: ${(e as Error).message}`);
  }
  let profile: BoardProfile;
  try {
    profile = boardProfileSchema.parse(raw);
  } catch (e) {
    if (e instanceof SchemaError) throw new BoardProfileError(`board "${boardName}": ${e.message}`);
    throw e;
  }
  for (const l of profile.rs485) {
    if (l.direction === 'gpio' && !l.directionGpio) throw new BoardProfileError(`board "${boardName}": RS-485 line ${l.name} has direction "gpio" but no directionGpio`);
  }
  for (const k of profile.upgrade?.keys ?? []) {
    try {
      publicKeyFromBase64(k);
    } catch (e) {
      throw new BoardProfileError(`board "${boardName}": upgrade key ${k.slice(0, 12)}…: ${(e as Error).message}`);
    }
  }
  if (profile.name !== boardName) {
    throw new BoardProfileError(`board "${boardName}": profile says its name is "${profile.name}"`);
  }
  return resolvePaths(profile, varDir);
}

function resolvePaths(p: BoardProfile, varDir: string): BoardProfile {
  const r = (x: string) => (isAbsolute(x) ? x : resolve(varDir, x));
  const rn = (x: string | null) => (x === null ? null : r(x));
  const line = <L extends { chip: string }>(l: L): L => ({ ...l, chip: r(l.chip) });
  return {
    ...p,
    paths: { data: r(p.paths.data), run: r(p.paths.run) },
    network: { ...p.network, networkdDir: r(p.network.networkdDir), timesyncdDir: r(p.network.timesyncdDir) },
    capture: p.capture.map((c) => ({ ...c, device: r(c.device) })),
    encoder: { ...p.encoder, device: rn(p.encoder.device) },
    rs485: p.rs485.map((s) => ({ ...s, port: r(s.port), directionGpio: s.directionGpio && line(s.directionGpio) })),
    gpio: {
      alarmInputs: p.gpio.alarmInputs.map(line),
      relays: p.gpio.relays.map(line),
      buzzer: p.gpio.buzzer && line(p.gpio.buzzer),
    },
    input: { frontPanel: rn(p.input.frontPanel), ir: rn(p.input.ir) },
    display: { ...p.display, card: rn(p.display.card) },
    sata: p.sata.map((b) => ({ ...b, path: r(b.path) })),
    watchdog: rn(p.watchdog),
    leds: p.leds.map((l) => ({ ...l, path: r(l.path) })),
    upgrade: p.upgrade && { ...p.upgrade, root: r(p.upgrade.root) },
  };
}
