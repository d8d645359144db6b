/**
 * Commands that arrive on `.../set` topics: parsed, validated and handed to
 * whichever service registered a handler. Nothing here trusts the payload:
 * every failure becomes a CommandError whose message goes back to the sender.
 */
import { int, object, oneOf, SchemaError, string, type Schema } from '../core/schema.js';

/** Arguments each command's handler receives, already validated. */
export interface CommandArgs {
  relay: { relay: string; on: boolean };
  ptzPreset: { channel: string; preset: number };
  arm: { armed: boolean };
  recording: { channel: string; on: boolean };
}
export type CommandName = keyof CommandArgs;
export type CommandHandler<K extends CommandName> = (args: CommandArgs[K]) => unknown;

export class CommandError extends Error {
  override name = 'CommandError';
}

/** Larger payloads are refused unread: no command needs more. */
export const MAX_COMMAND_BYTES = 4096;

// An optional request id comes back in the reply, for clients without MQTT 5 correlation data.
const id = string({ min: 1, max: 128 }).optional();
const onOff = object({ state: oneOf(['ON', 'OFF'] as const), id });
const preset = object({ preset: int({ min: 1, max: 255 }), id });

/** The command behind a topic, relative to `<base>/<deviceId>/`, or null. */
export function routeCommand(rest: string): { name: CommandName; target: string } | null {
  const p = rest.split('/');
  if (p.length === 3 && p[0] === 'relay' && p[2] === 'set') return { name: 'relay', target: p[1] };
  if (p.length === 4 && p[0] === 'ptz' && p[2] === 'preset' && p[3] === 'set') return { name: 'ptzPreset', target: p[1] };
  if (p.length === 2 && p[0] === 'armed' && p[1] === 'set') return { name: 'arm', target: '' };
  if (p.length === 4 && p[0] === 'channel' && p[2] === 'recording' && p[3] === 'set') return { name: 'recording', target: p[1] };
  return null;
}

/**
 * Accepts what Home Assistant sends (plain `ON`/`OFF`, a preset number) and
 * the JSON forms (`{"state":"ON","id":"r1"}`, `{"preset":3}`) scripts use.
 */
export function parseCommand<K extends CommandName>(name: K, target: string, payload: Buffer): { args: CommandArgs[K]; id?: string } {
  if (payload.length > MAX_COMMAND_BYTES) throw new CommandError(`payload too large (${payload.length} bytes; at most ${MAX_COMMAND_BYTES})`);
  let word = payload.toString('utf8').trim();
  let body: unknown = undefined;
  if (/^[[{"]/.test(word)) {
    try {
      body = JSON.parse(word);
    } catch (e) {
      throw new CommandError(`payload is not valid JSON: ${(e as Error).message}`);
    }
    // A JSON string ("ON") is the plain form quoted.
    if (typeof body === 'string') {
      word = body;
      body = undefined;
    }
  }
  const isPlain = body === undefined;
  word = word.toUpperCase();
  const validated = <T>(schema: Schema<T>): T => {
    try {
      return schema.parse(body);
    } catch (e) {
      if (e instanceof SchemaError) throw new CommandError(`invalid command: ${e.message}`);
      throw e;
    }
  };
  const onOffArgs = (words: Record<string, boolean>): { on: boolean; id?: string } => {
    if (isPlain) {
      if (!Object.hasOwn(words, word)) throw new CommandError(`expected ${Object.keys(words).join(' or ')}, or JSON {"state":"ON"|"OFF"}`);
      return { on: words[word] };
    }
    const v = validated(onOff);
    return { on: v.state === 'ON', ...(v.id ? { id: v.id } : {}) };
  };
  switch (name) {
    case 'relay':
    case 'recording': {
      const { on, id } = onOffArgs({ ON: true, OFF: false });
      const args = name === 'relay' ? { relay: target, on } : { channel: target, on };
      return { args: args as CommandArgs[K], ...(id ? { id } : {}) };
    }
    case 'arm': {
      const { on, id } = onOffArgs({ ON: true, OFF: false, ARM: true, DISARM: false });
      return { args: { armed: on } as CommandArgs[K], ...(id ? { id } : {}) };
    }
    case 'ptzPreset': {
      if (isPlain) {
        if (!/^\d{1,3}$/.test(word) || Number(word) < 1 || Number(word) > 255) throw new CommandError('expected a preset number 1..255, or JSON {"preset":n}');
        return { args: { channel: target, preset: Number(word) } as CommandArgs[K] };
      }
      const v = validated(preset);
      return { args: { channel: target, preset: v.preset } as CommandArgs[K], ...(v.id ? { id: v.id } : {}) };
    }
  }
  throw new CommandError(`unknown command ${String(name)}`);
}

/** Handlers by command name; one per command, registered by the service that owns the hardware. */
export class CommandRegistry {
  private readonly handlers = new Map<CommandName, CommandHandler<CommandName>>();

  /** Returns the function that unregisters. A second handler for the same command replaces the first. */
  register<K extends CommandName>(name: K, handler: CommandHandler<K>): () => void {
    const h = handler as CommandHandler<CommandName>;
    this.handlers.set(name, h);
    return () => {
      if (this.handlers.get(name) === h) this.handlers.delete(name);
    };
  }

  get<K extends CommandName>(name: K): CommandHandler<K> | undefined {
    return this.handlers.get(name) as CommandHandler<K> | undefined;
  }
}
