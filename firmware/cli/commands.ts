import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BoardProfileError, listBoards, loadBoardProfile } from '../board/profile.js';
import { memoryLogger, redact } from '../core/log.js';
import { packageRoot } from '../core/paths.js';
import { SchemaError } from '../core/schema.js';
import { controlRequest, NotRunningError, RemoteError } from '../control/control-client.js';
import { isLive } from '../control/control-service.js';
import { CONTROL_SOCKET } from '../control/protocol.js';
import { migrate, MigrationError } from '../config/migrations.js';
import { SettingPathError } from '../config/paths.js';
import { configSchema } from '../config/schema.js';
import { ConfigError, ConfigStore } from '../config/store.js';
import { FirmwareError, firmwareVersion, runFirmware } from '../main.js';
import { diskCommand } from './disk.js';
import { formatStatus, type StatusReply } from './format.js';
import { recCommand, shieldRelativeTimes } from './rec.js';
import { upgradeCommand } from './upgrade.js';
import { UserError } from './user-error.js';

export { UserError };

const USAGE = `usage: dvr <command> [options]

  start [--board NAME] [--var DIR] [--log-level L]   run the firmware in the foreground
  status [--json]                                    services and health of the running firmware
  logs [-n N]                                        recent log records of the running firmware
  config get [PATH] [--show-secrets]                 print the config, or one setting
  config set PATH VALUE                              change one setting (VALUE is JSON, or a plain string)
  config validate [FILE]                             check a config file (default: the current one)
  config reset --yes                                 restore the board's factory settings
  boards                                             list the board profiles
  disk list [--json]                                 the disks in the bays: state, capacity, recordings, SMART
  disk format BAY --yes [--force]                    erase a disk for the store (--force: even with recordings)
  disk check BAY [--json]                            read-only check of a disk's headers, index and catalog
  rec list CHANNEL FROM TO [--json]                  recordings, gaps and locks (times: ISO 8601, now, -10m, -2h)
  rec export CHANNEL FROM TO FILE [--fragmented]     write a time range as an MP4 file
  upgrade status [--json]                            firmware slots: running, current, previous version
  upgrade rollback                                   make the previous version current again (runs from the next start)

common options: --board NAME (default $DVR_BOARD, /etc/dvr/board, or sim), --var DIR (default $DVR_VAR or var/)`;

const OPTIONS = {
  board: { type: 'string' },
  var: { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean' },
  'show-secrets': { type: 'boolean' },
  yes: { type: 'boolean' },
  n: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  fragmented: { type: 'boolean' },
  force: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function defaultBoard(values: Values): string {
  if (values.board) return values.board;
  if (process.env.DVR_BOARD) return process.env.DVR_BOARD;
  if (existsSync('/etc/dvr/board')) return readFileSync('/etc/dvr/board', 'utf8').trim();
  return 'sim';
}

function defaultVar(values: Values): string {
  return values.var ?? process.env.DVR_VAR ?? join(packageRoot(), 'var');
}

function out(value: unknown): void {
  process.stdout.write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: shieldRelativeTimes(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message}\n${USAGE}`, 2);
  }
  const values = parsed.values as Values;
  const [cmd, sub, ...rest] = parsed.positionals;
  if (values.version) {
    out(await firmwareVersion());
    return 0;
  }
  if (values.help || !cmd || cmd === 'help') {
    out(USAGE);
    return cmd || values.help ? 0 : 2;
  }

  const boardName = defaultBoard(values);
  const varDir = defaultVar(values);
  const board = () => loadBoardProfile(boardName, varDir);
  const socket = () => join(board().paths.run, CONTROL_SOCKET);

  switch (cmd) {
    case 'start': {
      const level = values['log-level'] ?? process.env.DVR_LOG_LEVEL ?? 'info';
      if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UserError(`unknown log level "${level}"`, 2);
      const stopBound = Number(process.env.DVR_STOP_TIMEOUT_MS ?? 10_000);
      await runFirmware({ board: boardName, varDir, logLevel: level as 'info', stopBoundMs: stopBound });
      return -1; // keeps running; exit happens on a signal
    }
    case 'boards':
      out(listBoards().join('\n'));
      return 0;
    case 'status': {
      let reply: unknown;
      try {
        reply = await controlRequest(socket(), { cmd: 'status' });
      } catch (e) {
        if (e instanceof NotRunningError) throw new UserError(`the firmware is not running (board ${boardName})`, 3);
        throw e;
      }
      out(values.json ? reply : formatStatus(reply as StatusReply));
      return 0;
    }
    case 'logs': {
      const n = Number(values.n ?? 100);
      if (!Number.isInteger(n) || n < 1) throw new UserError('-n takes a whole number', 2);
      const records = (await controlRequest(socket(), { cmd: 'log.tail', n })) as unknown[];
      for (const r of records) out(JSON.stringify(r));
      return 0;
    }
    case 'config':
      return configCommand(sub, rest, values, board, socket);
    case 'disk':
      return diskCommand(sub, rest, values, socket);
    case 'rec':
      return recCommand(sub, rest, values, socket);
    case 'upgrade':
      return upgradeCommand(sub, rest, values, board, socket);
    default:
      throw new UserError(`unknown command "${cmd}"\n${USAGE}`, 2);
  }
}

async function configCommand(
  sub: string | undefined,
  args: string[],
  values: Values,
  board: () => ReturnType<typeof loadBoardProfile>,
  socket: () => string,
): Promise<number> {
  const running = await isLive(socket());
  const store = (readOnly: boolean) => {
    const b = board();
    return new ConfigStore({ dir: join(b.paths.data, 'config'), boardDefaults: b.configDefaults, log: memoryLogger('cli'), readOnly });
  };
  // The whole depth: a schedule's days sit deeper than redact() goes for log fields.
  const show = (v: unknown) => out(values['show-secrets'] ? v : redact(v, 0, Infinity));
  switch (sub) {
    case 'get': {
      const path = args[0];
      if (running) return show(await controlRequest(socket(), { cmd: 'config.get', ...(path ? { path } : {}) })), 0;
      const s = store(true);
      await s.load();
      show(path ? s.getPath(path) : s.get());
      return 0;
    }
    case 'set': {
      if (args.length !== 2) throw new UserError('usage: dvr config set PATH VALUE', 2);
      const [path, text] = args as [string, string];
      const value = parseValue(text);
      if (running) show(await controlRequest(socket(), { cmd: 'config.set', path, value }));
      else {
        const s = store(false);
        await s.load();
        await s.set(path, value);
        show(s.getPath(path));
      }
      return 0;
    }
    case 'validate': {
      const file = args[0] ?? join(board().paths.data, 'config', 'config.json');
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new UserError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(e as Error).message}`}`);
      }
      const { config, from } = migrate(raw);
      configSchema.parse(config);
      out(`${file}: valid (version ${from}${from !== config.version ? `, migrates to ${String(config.version)}` : ''})`);
      return 0;
    }
    case 'reset': {
      if (!values.yes) throw new UserError('this replaces every setting with the factory settings: add --yes to confirm', 2);
      if (running) await controlRequest(socket(), { cmd: 'config.reset' });
      else await store(false).reset();
      out('config reset to factory settings');
      return 0;
    }
    default:
      throw new UserError(`usage: dvr config get|set|validate|reset`, 2);
  }
}

const KNOWN_ERRORS = [UserError, ConfigError, SchemaError, MigrationError, SettingPathError, BoardProfileError, NotRunningError, RemoteError, FirmwareError];

/** The process entry: one clear line and a non-zero exit for anything the user can fix. */
export async function cli(argv = process.argv.slice(2)): Promise<void> {
  try {
    const code = await main(argv);
    if (code >= 0) process.exitCode = code;
  } catch (e) {
    const known = KNOWN_ERRORS.some((k) => e instanceof k);
    const err = e as Error;
    process.stderr.write(`dvr: ${known ? err.message : `${err.message} (unexpected; please report)`}\n`);
    if (!known && process.env.DVR_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.exitCode = e instanceof UserError ? e.exitCode : 1;
  }
}


