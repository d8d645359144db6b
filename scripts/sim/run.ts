/**
 * `make run`: start the sim board, then the firmware on it.
 *
 *   node dist/scripts/sim/run.js [--var DIR] [--no-firmware]
 *
 * --var DIR      the firmware's var directory (default <repo>/var)
 * --no-firmware  only start the sim board and wait for Ctrl-C, e.g. to work
 *                on device simulators against the RS-485 bus end
 *
 * The firmware (dist/firmware/cli/dvr.js start --board sim --var DIR) runs as a
 * child with the terminal's stdio; SIGINT and SIGTERM are forwarded to it, and
 * when it exits the sim board is stopped and this exits with its status.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { simProfileModules, startSimBoard, type SimBoard } from './sim-board.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'board'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the package root (package.json beside board/)');
    dir = up;
  }
}

function usage(code: number): never {
  (code === 0 ? console.log : console.error)('usage: node dist/scripts/sim/run.js [--var DIR] [--no-firmware]');
  process.exit(code);
}

interface Args {
  varDir: string;
  firmware: boolean;
}

function parseArgs(argv: string[], root: string): Args {
  const args: Args = { varDir: join(root, 'var'), firmware: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--var') {
      const v = argv[++i];
      if (!v) usage(2);
      args.varDir = resolve(v);
    } else if (a.startsWith('--var=')) {
      args.varDir = resolve(a.slice('--var='.length));
    } else if (a === '--no-firmware') {
      args.firmware = false;
    } else if (a === '-h' || a === '--help') {
      usage(0);
    } else {
      console.error(`run: unknown argument ${a}`);
      usage(2);
    }
  }
  return args;
}

const show = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

function printBoard(board: SimBoard) {
  console.log('sim board started:');
  console.log(`  mqtt    ${board.mqttUrl}`);
  for (const url of board.rtspUrls) console.log(`  camera  ${url}  (sub stream ${url}/sub)`);
  console.log(`  rs485   firmware end ${show(board.rs485.firmwareEnd)}, device end ${show(board.rs485.deviceEnd)}`);
  for (const m of board.modules) {
    console.log(`  modbus  I/O module at address ${m.address} (${m.inputs} in, ${m.outputs} out) on ${show(m.end)}`);
    console.log(`          echo 'in 3 1' > ${show(m.control)}   closes its input 3 ('in 3 0' opens it; 'silent 1' cuts it off the bus)`);
  }
  console.log(`  disks   ${board.disks.map(show).join('  ')}`);
}

async function main(): Promise<number> {
  const root = repoRoot();
  const args = parseArgs(process.argv.slice(2), root);
  const dvr = join(root, 'dist', 'firmware', 'cli', 'dvr.js');
  if (args.firmware && !existsSync(dvr)) {
    console.error(`run: the firmware entry ${show(dvr)} does not exist; build it first (npm run build)`);
    return 1;
  }

  let board: SimBoard;
  try {
    board = await startSimBoard({
      varDir: args.varDir,
      modules: simProfileModules(),
      log: (line) => {
        if (process.env.SIM_VERBOSE || !line.startsWith('[')) console.log(line);
      },
    });
  } catch (err) {
    console.error(`run: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  printBoard(board);

  if (!args.firmware) {
    console.log('run: --no-firmware, sim board running until Ctrl-C');
    await new Promise<void>((res) => {
      process.once('SIGINT', res);
      process.once('SIGTERM', res);
    });
    await board.stop();
    return 0;
  }

  // Its own process group: a terminal's Ctrl-C reaches only us, and we forward it once. Otherwise the
  // firmware would get SIGINT twice (from the terminal and from us) and take the second as "exit now".
  // setpriv --pdeathsig still takes it down if we are killed outright.
  const argv = [dvr, 'start', '--board', 'sim', '--var', args.varDir];
  const [file, fwArgs] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'TERM', '--', process.execPath, ...argv]]
    : [process.execPath, argv];
  const fw = spawn(file, fwArgs, { cwd: root, stdio: 'inherit', detached: true });
  const forward = (sig: NodeJS.Signals) => () => {
    if (fw.exitCode === null && fw.signalCode === null) fw.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  const code = await new Promise<number>((res) => {
    fw.once('error', (err) => {
      console.error(`run: cannot start the firmware: ${err.message}`);
      res(1);
    });
    fw.once('exit', (status, signal) => {
      if (signal) {
        console.log(`run: firmware killed by ${signal}`);
        res(128 + (constants.signals[signal] ?? 0));
      } else {
        res(status ?? 1);
      }
    });
  });
  await board.stop();
  process.removeListener('SIGINT', onInt);
  process.removeListener('SIGTERM', onTerm);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
