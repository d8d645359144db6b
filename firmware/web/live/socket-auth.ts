import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Right } from '../auth/roles.js';
import type { Account } from '../auth/users.js';
import { refuseUpgrade } from '../ws/websocket.js';

/** Who is behind a WebSocket handshake and what they may do: from the web service's accounts and sessions. */
export interface SocketAuth {
  setupNeeded(): boolean;
  /** The account behind the request's session cookie or API token, or null. */
  identify(req: IncomingMessage): Promise<Account | null>;
  may(account: Account, channel: string, right: Right): boolean;
}

/**
 * The checks every media socket passes before its handshake: same-origin
 * page, a session, the right on the channel. Answers the refusal itself and
 * returns null when one fails.
 */
export async function authorizeSocket(req: IncomingMessage, socket: Duplex, auth: SocketAuth, channel: string, right: Right): Promise<Account | null> {
  // A page of another site may open a WebSocket to the box with the user's cookie; the browser says whose page it is.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `https://${req.headers.host}`) return refuse(socket, 403, 'cross-origin socket refused');
  if (auth.setupNeeded()) return refuse(socket, 401, 'create the admin account first');
  const account = await auth.identify(req).catch(() => null);
  if (!account) return refuse(socket, 401, 'log in first');
  if (!auth.may(account, channel, right)) return refuse(socket, 403, `no ${right} right on channel ${channel}`);
  return account;
}

function refuse(socket: Duplex, status: number, message: string): null {
  refuseUpgrade(socket, status, message);
  return null;
}
