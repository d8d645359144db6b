/**
 * Running one command from a `.../set` topic, and the wording of connection
 * failures: the parts of the MQTT service that turn untrusted input into a
 * clear message.
 */
import type { Logger } from '../core/log.js';
import { CommandError, parseCommand, routeCommand, type CommandArgs, type CommandName, type CommandRegistry } from './commands.js';
import type { EntityRegistry, EntitySpec } from './entities.js';
import { segment } from './topics.js';

export type AppliedCommand = { [K in CommandName]: { name: K; args: CommandArgs[K] } }[CommandName];

export interface CommandContext {
  entities: EntityRegistry;
  commands: CommandRegistry;
  log: Logger;
  /** Bounds the handler's time. */
  bounded: <T>(p: Promise<T>) => Promise<T>;
}

/** Never throws: every outcome is a reply body `{id, command, ok, error?, result?}`. */
export async function runCommand(
  rest: string,
  payload: Buffer,
  ctx: CommandContext,
  correlation?: Buffer,
): Promise<{ body: Record<string, unknown>; applied?: AppliedCommand }> {
  let id: string | undefined;
  let name: CommandName | undefined;
  try {
    const route = routeCommand(rest);
    if (!route) throw new CommandError(`unknown command topic "${rest.slice(0, 100)}"`);
    name = route.name;
    const parsed = parseCommand(route.name, route.target, payload);
    id = parsed.id;
    const args = resolveTarget(ctx.entities, route.name, route.target, parsed.args);
    const handler = ctx.commands.get(route.name);
    if (!handler) throw new CommandError(`nothing handles ${route.name} commands on this box`);
    const result = await ctx.bounded(Promise.resolve().then(() => handler(args)));
    ctx.log.info('mqtt command done', { command: name, topic: rest });
    return { body: reply(id, correlation, name, { ok: true, ...(result !== undefined ? { result } : {}) }), applied: { name, args } as AppliedCommand };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    // debug, not warn: whoever can publish garbage must not be able to flood the log.
    ctx.log.debug('mqtt command refused', { command: name ?? null, topic: rest.slice(0, 100), error });
    return { body: reply(id, correlation, name, { ok: false, error }) };
  }
}

function reply(id: string | undefined, correlation: Buffer | undefined, command: CommandName | undefined, rest: Record<string, unknown>): Record<string, unknown> {
  return { id: id ?? (correlation ? correlation.toString('utf8').slice(0, 128) : null), command: command ?? null, ...rest };
}

/** Topics carry slugs; handlers get the id the owning service registered. Unknown targets are refused here. */
function resolveTarget<K extends CommandName>(entities: EntityRegistry, name: K, target: string, args: CommandArgs[K]): CommandArgs[K] {
  const find = (kind: EntitySpec['kind'], idOf: (e: EntitySpec) => string) => {
    const e = entities.all().find((x) => x.kind === kind && segment(idOf(x)) === target);
    return e ? idOf(e) : undefined;
  };
  const channelOf = (e: EntitySpec) => ('channel' in e ? e.channel : '');
  switch (name) {
    case 'relay': {
      const relay = find('relay', (e) => ('relay' in e ? e.relay : ''));
      if (relay === undefined) throw new CommandError(`unknown relay "${target}"`);
      return { ...args, relay } as CommandArgs[K];
    }
    case 'ptzPreset': {
      const channel = find('ptzPreset', channelOf);
      if (channel === undefined) throw new CommandError(`unknown PTZ channel "${target}"`);
      return { ...args, channel } as CommandArgs[K];
    }
    case 'recording': {
      const channel = find('recording', channelOf);
      if (channel === undefined) throw new CommandError(`unknown channel "${target}"`);
      return { ...args, channel } as CommandArgs[K];
    }
    default:
      return args;
  }
}

const CONNACK: Record<number, string> = {
  4: 'bad user name or password',
  // mosquitto answers a wrong password with "not authorized", so say both.
  5: 'not authorized (wrong user name or password, or the user may not connect)',
  134: 'bad user name or password',
  135: 'not authorized (wrong user name or password, or the user may not connect)',
  136: 'server unavailable',
  138: 'banned',
  140: 'bad authentication method',
};

/** A reason an installer can act on, for the log and `dvr status`. */
export function describeFailure(err: Error & { code?: string | number }, username?: string): string {
  if (typeof err.code === 'number' && CONNACK[err.code]) {
    const who = username ? ` for user "${username}"` : ' (no user name configured)';
    return `the broker refused the login${who}: ${CONNACK[err.code]} (code ${err.code})`;
  }
  if (err.code === 'ECONNREFUSED') return 'connection refused (is the broker running, and is the port right?)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'unknown broker host name';
  if (typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code)) {
    return `TLS: ${err.message} (set mqtt.tls.ca to the broker's CA, or mqtt.tls.insecure for a test)`;
  }
  return err.message;
}
