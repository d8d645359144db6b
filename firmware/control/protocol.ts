/**
 * The local control protocol between the `dvr` command and the running
 * firmware: one JSON request per line on a unix socket, one JSON reply per
 * line. Only root (the socket is mode 0600) can connect, which is the
 * authentication: the same person could edit the config file anyway.
 */
export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'config.get'; path?: string }
  | { cmd: 'config.set'; path: string; value: unknown }
  | { cmd: 'config.reset' }
  | { cmd: 'log.tail'; n?: number };

/**
 * A command a feature module registers (`disk.list`, `rec.export`, ...):
 * its arguments travel in `args` and the module validates them.
 */
export interface CommandRequest {
  cmd: string;
  args?: Record<string, unknown>;
}

/** What a feature module offers the control socket: command name -> handler. */
export type ControlCommands = Map<string, (args: Record<string, unknown>) => Promise<unknown>>;

export type ControlReply = { ok: true; result: unknown } | { ok: false; error: string };

export const CONTROL_SOCKET = 'control.sock';
/** A request longer than this is refused: the protocol carries settings, not media. */
export const MAX_REQUEST_BYTES = 256 * 1024;
