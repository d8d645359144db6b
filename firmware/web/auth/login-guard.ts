import type { Clock } from '../../core/clock.js';

interface Entry {
  failures: number;
  lockedUntil: number;
  lockouts: number;
  lastFailure: number;
}

export interface LoginGuardOptions {
  /** Failures allowed before a lockout. */
  maxFailures?: number;
  /** First lockout; each further one doubles, up to maxLockMs. */
  lockMs?: number;
  maxLockMs?: number;
  /** Failures older than this are forgotten. */
  windowMs?: number;
  maxEntries?: number;
}

/**
 * Brute-force protection for logins, keyed both by client address and by
 * user name: guessing one account from many addresses, or many accounts from
 * one address, both hit a lockout. Bounded in memory.
 */
export class LoginGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly o: Required<LoginGuardOptions>;

  constructor(
    private readonly clock: Clock,
    opts: LoginGuardOptions = {},
  ) {
    this.o = { maxFailures: 5, lockMs: 60_000, maxLockMs: 3600_000, windowMs: 15 * 60_000, maxEntries: 10_000, ...opts };
  }

  /** Milliseconds until a login may be tried for these keys; 0 = allowed now. */
  retryAfter(keys: string[]): number {
    const now = this.clock.now();
    return Math.max(0, ...keys.map((k) => (this.entries.get(k)?.lockedUntil ?? 0) - now));
  }

  failure(keys: string[]): void {
    const now = this.clock.now();
    for (const k of keys) {
      let e = this.entries.get(k);
      if (!e || now - e.lastFailure > this.o.windowMs) e = { failures: 0, lockedUntil: 0, lockouts: e?.lockouts ?? 0, lastFailure: now };
      e.failures++;
      e.lastFailure = now;
      if (e.failures >= this.o.maxFailures) {
        e.lockedUntil = now + Math.min(this.o.maxLockMs, this.o.lockMs * 2 ** e.lockouts);
        e.lockouts++;
        e.failures = 0;
      }
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    while (this.entries.size > this.o.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  success(keys: string[]): void {
    for (const k of keys) this.entries.delete(k);
  }
}
