import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/clock.js';

export interface Session {
  id: string;
  user: string;
  /** Sent back by the page in a header on every state-changing request. */
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface SessionOptions {
  idleMs?: number;
  absoluteMs?: number;
  maxSessions?: number;
}

/**
 * Login sessions, in memory: a reboot logs everyone out, which is what an
 * appliance should do. Ids are 256-bit random; a session ends after 30 min
 * idle or 12 h in all, and the oldest is dropped past maxSessions so a
 * script logging in forever cannot grow memory.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly max: number;

  constructor(
    private readonly clock: Clock,
    opts: SessionOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 30 * 60_000;
    this.absoluteMs = opts.absoluteMs ?? 12 * 3600_000;
    this.max = opts.maxSessions ?? 256;
  }

  create(user: string): Session {
    const now = this.clock.now();
    const s: Session = { id: token(), user, csrf: token(), created: now, lastSeen: now };
    this.sessions.set(s.id, s);
    while (this.sessions.size > this.max) this.sessions.delete(this.sessions.keys().next().value!);
    return { ...s };
  }

  /** The live session for an id (and refreshes its idle timer), or null. */
  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    const now = this.clock.now();
    if (now - s.lastSeen > this.idleMs || now - s.created > this.absoluteMs) {
      this.sessions.delete(id);
      return null;
    }
    s.lastSeen = now;
    return { ...s };
  }

  checkCsrf(session: Session, presented: string | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** After a password change or account removal: every session of that user ends. */
  endUser(user: string, except?: string): number {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (s.user === user && id !== except) {
        this.sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Factory reset: everyone is logged out. */
  endAll(): void {
    this.sessions.clear();
  }

  get size(): number {
    return this.sessions.size;
  }
}

function token(): string {
  return randomBytes(32).toString('base64url');
}
