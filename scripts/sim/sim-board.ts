/**
 * The sim board: the peripherals of board/sim/profile.json, made of ordinary
 * Linux programs so the firmware runs on any PC.
 *
 *  - file-backed disks: directories <varDir>/disks/bay1, bay2
 *  - MQTT broker: a loopback-only mosquitto (default port 18830)
 *  - IP cameras: scripts/sim/rtsp-camera.py, GStreamer test streams
 *    (default port 18554, /cam1, /cam2, each with a 352x288 /sub stream)
 *  - RS-485 bus: a socat pty pair, <varDir>/sim/rs485-dvr (the firmware end)
 *    and <varDir>/sim/rs485-bus (where device simulators attach); with
 *    Modbus I/O modules on it, a multi-drop line instead (rs485-hub.ts): the
 *    same two ends plus <varDir>/sim/rs485-modbus-<address> per module
 *
 * Every child is started with detached: false, is asked by the kernel to die
 * with this process (PR_SET_PDEATHSIG), and is killed from an exit hook.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// Also what makes the build compile the module simulator into dist/, where the sim board runs it.
import type { ModbusIoSimOptions } from '../../test/fixtures/modbus-io-sim.js';
import { startRs485Hub, type Rs485Hub } from './rs485-hub.js';

/** A Modbus RTU I/O module simulated on the RS-485 bus (test/fixtures/modbus-io-sim.ts). */
export type SimModule = Required<Pick<ModbusIoSimOptions, 'address' | 'inputs' | 'outputs'>>;

export interface SimBoardOptions {
  /** The firmware's var directory; the profile's relative paths resolve against it. */
  varDir: string;
  /** mosquitto port on 127.0.0.1, default 18830 (0 is not allowed: the firmware config names it). */
  mqttPort?: number;
  /** RTSP camera port on 127.0.0.1, default 18554; 0 picks a free port. */
  rtspPort?: number;
  /** Number of cameras, /cam1 .. /camN, default 2. */
  cameras?: number;
  /** Progress and child output, one line per call. Default: discarded. */
  log?: (line: string) => void;
  /** How long each peripheral may take to become ready, default 15000 ms. */
  timeoutMs?: number;
  /** Pelco addresses of the simulated PTZ domes on the RS-485 bus (D or P, detected per frame); default [1]; [] for none. */
  domes?: number[];
  /** Modbus I/O modules on the same bus (default none; `simProfileModules()` gives the sim board's own). */
  modules?: SimModule[];
}

export interface SimBoard {
  /** mqtt://127.0.0.1:PORT */
  mqttUrl: string;
  /** Main stream of each camera; each also has a 352x288 stream at `${url}/sub`. */
  rtspUrls: string[];
  /** Absolute pty symlinks: the firmware opens firmwareEnd, device simulators deviceEnd. */
  rs485: { firmwareEnd: string; deviceEnd: string };
  /** Absolute paths of the file-backed disk directories. */
  disks: string[];
  /** Addresses answered by the PTZ dome simulator on the bus's device end. */
  domes: number[];
  /** Each module's own drop on the bus, and the FIFO its control lines (`in 3 1`, `silent 1`) are written to. */
  modules: (SimModule & { end: string; control: string })[];
  /** Process ids of the children (mosquitto, camera, socat, dome simulator), for diagnostics. */
  pids: number[];
  /** Terminates all children (SIGTERM, SIGKILL after 3 s) and waits for them. */
  stop(): Promise<void>;
}

export const DEFAULT_MQTT_PORT = 18830;
export const DEFAULT_RTSP_PORT = 18554;
const LOOPBACK = '127.0.0.1';
const KILL_GRACE_MS = 3000;
const MOSQUITTO = '/usr/sbin/mosquitto';
const SOCAT = '/usr/bin/socat';
const SYSTEM_PYTHON = '/usr/bin/python3'; // the one with the GStreamer `gi` bindings
const SETPRIV = '/usr/bin/setpriv';
const MKFIFO = '/usr/bin/mkfifo';

/** The folder holding package.json and board/, from source or from dist/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'board'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('sim board: cannot find the package root (package.json beside board/)');
    dir = up;
  }
}

interface SimProfile {
  disks: string[];
  rs485Port: string;
  /** The modules its factory config puts on that line. */
  modules: SimModule[];
}

/** The bits of board/sim/profile.json the sim board provides. */
function readSimProfile(root: string): SimProfile {
  const fallback: SimProfile = { disks: ['disks/bay1', 'disks/bay2'], rs485Port: 'sim/rs485-dvr', modules: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(root, 'board', 'sim', 'profile.json'), 'utf8'));
  } catch {
    return fallback;
  }
  type Module = { bus?: unknown; address?: unknown; inputs?: unknown; outputs?: unknown };
  const p = raw as {
    sata?: { path?: unknown; kind?: unknown }[];
    rs485?: { name?: unknown; port?: unknown }[];
    configDefaults?: { alarms?: { modules?: Module[] } };
  };
  const disks = (p.sata ?? [])
    .filter((s) => s.kind === 'directory' && typeof s.path === 'string')
    .map((s) => s.path as string);
  const port = p.rs485?.[0]?.port;
  const count = (v: unknown) => (typeof v === 'number' ? v : 8); // the config's default
  const modules = (p.configDefaults?.alarms?.modules ?? [])
    .filter((m) => m.bus === p.rs485?.[0]?.name && typeof m.address === 'number')
    .map((m) => ({ address: m.address as number, inputs: count(m.inputs), outputs: count(m.outputs) }));
  return {
    disks: disks.length > 0 ? disks : fallback.disks,
    rs485Port: typeof port === 'string' ? port : fallback.rs485Port,
    modules,
  };
}

/** The Modbus modules the sim board's factory config expects on its RS-485 line, so `make run` has them answering. */
export function simProfileModules(): SimModule[] {
  return readSimProfile(repoRoot()).modules;
}

/** A started child with its output tail and an exit promise. */
class Child {
  readonly exited: Promise<void>;
  private tail: string[] = [];

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    private readonly log: (line: string) => void,
    onLine?: (stream: 'stdout' | 'stderr', line: string) => void,
  ) {
    this.exited = new Promise((res) => {
      proc.once('exit', () => res());
      proc.once('error', () => res()); // spawn failure: no 'exit' follows
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      proc[stream]?.setEncoding('utf8');
      proc[stream]?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trimEnd();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          this.tail.push(line);
          if (this.tail.length > 20) this.tail.shift();
          this.log(`[${name}] ${line}`);
          onLine?.(stream, line);
        }
      });
    }
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined;
  }

  describeExit(): string {
    const how =
      this.proc.signalCode !== null ? `killed by ${this.proc.signalCode}` : `exited with status ${this.proc.exitCode}`;
    const tail = this.tail.slice(-5).join(' | ');
    return tail ? `${how}: ${tail}` : how;
  }

  async stop(): Promise<void> {
    if (!this.running) return this.exited;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((res) => (timer = setTimeout(() => res(false), KILL_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!graceful) {
      this.log(`sim: ${this.name} ignored SIGTERM for ${KILL_GRACE_MS / 1000} s, sending SIGKILL`);
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** Resolves once a TCP connection to host:port succeeds. */
function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host: LOOPBACK, port });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

/** Rejects with a clear message when nothing may listen on 127.0.0.1:port. */
function assertPortFree(what: string, port: number): Promise<void> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${err.code ?? err.message})`;
      rej(new Error(`${what}: port ${port} on ${LOOPBACK} ${why}`));
    });
    srv.listen({ host: LOOPBACK, port, exclusive: true }, () => srv.close(() => res()));
  });
}

/** Polls `ready` until it is true, the child exits, or the timeout passes. */
async function waitFor(child: Child, what: string, timeoutMs: number, ready: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`${child.name}: ${child.describeExit()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${child.name}: not ready after ${timeoutMs} ms (waiting for ${what})`);
    await sleep(50);
  }
}

function checkPort(name: string, port: number, allowZero: boolean) {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new Error(`sim board: bad ${name} ${port}`);
  }
}

/** Removes a FIFO of ours; anything else at `path` is not ours to delete. */
function removeFifo(path: string) {
  try {
    if (!lstatSync(path).isFIFO()) throw new Error(`sim board: ${path} exists and is not a FIFO`);
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A FIFO at `path`, replacing one left by a previous run. */
function makeFifo(path: string) {
  removeFifo(path);
  const r = spawnSync(MKFIFO, ['-m', '600', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sim board: cannot make the FIFO ${path}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** Removes a stale symlink left by a previous run, so readiness is not faked by it. */
function removeStaleLink(path: string) {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
    else throw new Error(`sim board: ${path} exists and is not a symlink`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export async function startSimBoard(opts: SimBoardOptions): Promise<SimBoard> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 15000;
  const mqttPort = opts.mqttPort ?? DEFAULT_MQTT_PORT;
  const rtspPort = opts.rtspPort ?? DEFAULT_RTSP_PORT;
  const cameras = opts.cameras ?? 2;
  const domes = opts.domes ?? [1];
  if (!domes.every((a) => Number.isInteger(a) && a >= 1 && a <= 255)) throw new Error(`sim board: bad dome addresses ${domes.join(',')}`);
  const moduleSpecs = opts.modules ?? [];
  const addresses = moduleSpecs.map((m) => m.address);
  if (!addresses.every((a) => Number.isInteger(a) && a >= 1 && a <= 247) || new Set(addresses).size !== addresses.length) {
    throw new Error(`sim board: bad Modbus module addresses ${addresses.join(',')} (1..247, each once)`);
  }
  checkPort('mqttPort', mqttPort, false);
  checkPort('rtspPort', rtspPort, true);
  if (!Number.isInteger(cameras) || cameras < 0 || cameras > 64) throw new Error(`sim board: bad cameras ${cameras}`);

  const root = repoRoot();
  const profile = readSimProfile(root);
  const varDir = resolve(opts.varDir);
  const simDir = join(varDir, 'sim');
  mkdirSync(simDir, { recursive: true });
  const modules = moduleSpecs.map((m) => ({ ...m, end: join(simDir, `rs485-modbus-${m.address}`), control: join(simDir, `modbus-${m.address}.control`) }));
  const disks = profile.disks.map((d) => resolve(varDir, d));
  for (const d of disks) mkdirSync(d, { recursive: true });
  log(`sim: disks ${disks.join(' ')}`);

  const children: Child[] = [];
  let hub: Rs485Hub | undefined;
  let stopping: Promise<void> | undefined;
  const killAllNow = () => {
    for (const c of children) if (c.running) c.proc.kill('SIGKILL');
  };
  process.on('exit', killAllNow);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(children.map((c) => c.stop()));
      await hub?.close();
      for (const m of modules) {
        try {
          removeFifo(m.control);
        } catch {
          // not a FIFO: left alone, and startModule already said so
        }
      }
      process.removeListener('exit', killAllNow);
      log('sim: stopped');
    })();
    return stopping;
  };

  /** Spawns cmd, asking the kernel to SIGTERM it if we die (setpriv --pdeathsig). */
  const start = (name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv, onLine?: (s: 'stdout' | 'stderr', l: string) => void, stdin?: number) => {
    const [file, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
    const proc = spawn(file, argv, { detached: false, stdio: [stdin ?? 'ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const child = new Child(name, proc, log, onLine);
    proc.once('error', (err) => log(`sim: ${name}: cannot start ${cmd}: ${err.message}`));
    proc.once('exit', (code, signal) => {
      if (!stopping) log(`sim: ${name} exited unexpectedly (${signal ?? `status ${code}`})`);
    });
    children.push(child);
    return child;
  };

  const startMosquitto = async (): Promise<string> => {
    await assertPortFree('mosquitto', mqttPort);
    const conf = join(simDir, 'mosquitto.conf');
    const lines = [
      '# Generated by scripts/sim/sim-board.ts for the sim board; rewritten on every start.',
      `listener ${mqttPort} ${LOOPBACK}`,
      '# anonymous access is only acceptable because the listener is loopback-only',
      'allow_anonymous true',
      'persistence false',
      `log_dest file ${join(simDir, 'mosquitto.log')}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    ];
    // As root mosquitto would switch to the `mosquitto` user, which cannot
    // write the log under a root-owned var directory.
    if (process.getuid?.() === 0) lines.push('user root');
    writeFileSync(conf, lines.join('\n') + '\n');
    const child = start('mosquitto', MOSQUITTO, ['-c', conf]);
    await waitFor(child, `TCP port ${mqttPort}`, timeoutMs, () => tcpAccepts(mqttPort));
    const url = `mqtt://${LOOPBACK}:${mqttPort}`;
    log(`sim: mosquitto ${url}`);
    return url;
  };

  const startCamera = async (): Promise<string[]> => {
    if (cameras === 0) return [];
    if (rtspPort !== 0) await assertPortFree('rtsp-camera', rtspPort);
    const script = join(root, 'scripts', 'sim', 'rtsp-camera.py');
    const args = [script, '--address', LOOPBACK, '--port', String(rtspPort), '--sub'];
    for (let i = 1; i <= cameras; i++) args.push('--mount', `/cam${i}`);
    let urls: string[] | undefined;
    const child = start('rtsp-camera', SYSTEM_PYTHON, args, { ...process.env, PYTHONUNBUFFERED: '1' }, (s, line) => {
      if (s === 'stdout' && line.startsWith('READY ')) urls = line.slice(6).trim().split(/\s+/);
    });
    await waitFor(child, 'its READY line', timeoutMs, () => urls !== undefined);
    const main = (urls ?? []).filter((u) => !u.endsWith('/sub'));
    log(`sim: rtsp-camera ${main.join(' ')} (each with /sub)`);
    return main;
  };

  const firmwareEnd = resolve(varDir, profile.rs485Port);
  const deviceEnd = join(simDir, 'rs485-bus');
  const startRs485 = async (): Promise<void> => {
    mkdirSync(dirname(firmwareEnd), { recursive: true });
    const ends = [firmwareEnd, deviceEnd, ...modules.map((m) => m.end)];
    for (const end of ends) removeStaleLink(end);
    if (modules.length === 0) {
      const child = start('socat', SOCAT, [
        '-d',
        '-d',
        `pty,raw,echo=0,link=${firmwareEnd}`,
        `pty,raw,echo=0,link=${deviceEnd}`,
      ]);
      await waitFor(child, `pty links ${firmwareEnd} and ${deviceEnd}`, timeoutMs, () => existsSync(firmwareEnd) && existsSync(deviceEnd));
      log(`sim: rs485 ${firmwareEnd} <-> ${deviceEnd}`);
    } else {
      // More than two ends on one line: each end a drop on the hub.
      const h = (hub = await startRs485Hub(join(simDir, 'rs485-hub.sock')));
      const drops = ends.map((end) => start(`socat ${basename(end)}`, SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${end}`, `UNIX-CONNECT:${h.path}`]));
      await Promise.all(drops.map((child, i) => waitFor(child, `pty link ${ends[i]}`, timeoutMs, () => existsSync(ends[i]!))));
      await waitFor(drops[0]!, `${ends.length} drops on the hub`, timeoutMs, () => h.drops() === ends.length);
      log(`sim: rs485 multi-drop line ${ends.join(' ')}`);
    }
    if (domes.length > 0) await startDomes();
    for (const m of modules) await startModule(m);
  };

  // The device simulators are test fixtures; the build compiles them to
  // dist/ so the sim board can run them without a TypeScript loader.
  const fixture = (name: string): string[] => {
    const fromSource = import.meta.url.endsWith('.ts');
    const file = fromSource ? join(root, 'test', 'fixtures', `${name}.ts`) : join(root, 'dist', 'test', 'fixtures', `${name}.js`);
    const loader = fromSource ? process.execArgv.filter((a) => a.includes('@tapjs/typescript')) : [];
    return [...loader, file];
  };

  const startDomes = async (): Promise<void> => {
    let ready = false;
    const child = start('ptz-domes', process.execPath, [...fixture('ptz-dome-sim'), '--port', deviceEnd, '--protocol', 'auto', '--address', domes.join(',')], process.env, (s, line) => {
      if (s === 'stdout' && line === 'ready') ready = true;
    });
    await waitFor(child, 'its ready line', timeoutMs, () => ready);
    log(`sim: PTZ domes ${domes.join(', ')} on ${deviceEnd}`);
  };

  const startModule = async (m: (typeof modules)[number]): Promise<void> => {
    makeFifo(m.control);
    // Read and write: the module never sees end-of-file when a writer (`echo ... >`) goes away.
    const control = openSync(m.control, 'r+');
    let ready = false;
    const args = [...fixture('modbus-io-sim'), '--port', m.end, '--address', String(m.address), '--inputs', String(m.inputs), '--outputs', String(m.outputs)];
    const child = start(`modbus-${m.address}`, process.execPath, args, process.env, (s, line) => {
      if (s === 'stdout' && line === 'ready') ready = true;
    }, control);
    closeSync(control);
    await waitFor(child, 'its ready line', timeoutMs, () => ready);
    log(`sim: Modbus I/O module ${m.address} on ${m.end}, control ${m.control}`);
  };

  const results = await Promise.allSettled([startMosquitto(), startCamera(), startRs485()]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    await stop();
    const msg = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('; ');
    throw new Error(`sim board failed to start: ${msg}`);
  }
  const [mqtt, rtsp] = results as [PromiseFulfilledResult<string>, PromiseFulfilledResult<string[]>, PromiseFulfilledResult<void>];

  return {
    mqttUrl: mqtt.value,
    rtspUrls: rtsp.value,
    rs485: { firmwareEnd, deviceEnd },
    domes,
    modules,
    disks,
    pids: children.map((c) => c.proc.pid).filter((p): p is number => p !== undefined),
    stop,
  };
}
