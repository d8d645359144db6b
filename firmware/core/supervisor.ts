import type { EventBus, ServiceState } from './bus.js';
import type { Clock, Timer } from './clock.js';
import type { Logger } from './log.js';
import type { Service, ServiceStatus } from './service.js';

export interface SupervisorOptions {
  bus: EventBus;
  log: Logger;
  clock: Clock;
  /** A start() that takes longer is treated as failed. */
  startTimeoutMs?: number;
  /** First retry delay; doubles on each failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface Entry {
  service: Service;
  status: ServiceStatus;
  retry?: Timer;
  starting?: Promise<void>;
}

export class DependencyError extends Error {
  override name = 'DependencyError';
}

/**
 * Starts services in dependency order and stops them in reverse.
 * A service that fails to start is stopped (to release what it half-acquired),
 * reported, and retried with backoff; services that depend on it wait, and
 * everything else keeps running.
 */
export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private order: string[] = [];
  private stopping = false;
  private readonly startTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
  }

  add(service: Service): void {
    if (this.entries.has(service.name)) throw new DependencyError(`service "${service.name}" added twice`);
    this.entries.set(service.name, {
      service,
      status: {
        name: service.name,
        state: 'stopped',
        since: this.opts.clock.now(),
        attempts: 0,
        dependsOn: [...(service.dependsOn ?? [])],
      },
    });
  }

  status(): ServiceStatus[] {
    const names = this.order.length ? this.order : [...this.entries.keys()];
    return names.map((n) => ({ ...this.entries.get(n)!.status }));
  }

  /** Dependency order; throws on an unknown dependency or a cycle, before anything starts. */
  resolveOrder(): string[] {
    const order: string[] = [];
    const mark = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, chain: string[]) => {
      const e = this.entries.get(name);
      if (!e) throw new DependencyError(`service "${chain.at(-1)}" depends on unknown service "${name}"`);
      if (mark.get(name) === 'done') return;
      if (mark.get(name) === 'visiting') throw new DependencyError(`dependency cycle: ${[...chain, name].join(' -> ')}`);
      mark.set(name, 'visiting');
      for (const d of e.status.dependsOn) visit(d, [...chain, name]);
      mark.set(name, 'done');
      order.push(name);
    };
    for (const name of this.entries.keys()) visit(name, []);
    return order;
  }

  /** Starts what can start. Resolves once every service is running, failed-and-retrying, or waiting. */
  async start(): Promise<void> {
    this.order = this.resolveOrder();
    this.stopping = false;
    for (const name of this.order) await this.tryStart(name);
  }

  private depsRunning(e: Entry): boolean {
    return e.status.dependsOn.every((d) => this.entries.get(d)!.status.state === 'running');
  }

  private setState(e: Entry, state: ServiceState, error?: string): void {
    e.status.state = state;
    e.status.since = this.opts.clock.now();
    if (error !== undefined) e.status.lastError = error;
    this.opts.bus.emit('serviceState', { service: e.service.name, state, at: e.status.since, ...(error ? { error } : {}) });
  }

  private async tryStart(name: string): Promise<void> {
    const e = this.entries.get(name)!;
    if (this.stopping || e.status.state === 'running' || e.starting) return;
    if (!this.depsRunning(e)) {
      if (e.status.state !== 'waiting') {
        const missing = e.status.dependsOn.filter((d) => this.entries.get(d)!.status.state !== 'running');
        this.opts.log.warn('service waits for its dependencies', { service: name, waitingFor: missing });
        this.setState(e, 'waiting');
      }
      return;
    }
    e.starting = this.runStart(e);
    try {
      await e.starting;
    } finally {
      e.starting = undefined;
    }
  }

  private async runStart(e: Entry): Promise<void> {
    const name = e.service.name;
    e.status.attempts++;
    this.setState(e, 'starting');
    const t0 = this.opts.clock.monotonic();
    try {
      await this.withTimeout(e.service.start(), this.startTimeoutMs, `start of "${name}" took over ${this.startTimeoutMs} ms`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Release whatever the failed start acquired, so a retry begins clean.
      await e.service.stop().catch((stopErr: unknown) =>
        this.opts.log.warn('stop after failed start also failed', { service: name, error: String(stopErr) }),
      );
      if (this.stopping) {
        this.setState(e, 'stopped', message);
        return;
      }
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(e.status.attempts - 1, 16));
      this.opts.log.error('service failed to start', { service: name, error: message, attempt: e.status.attempts, retryInMs: delay });
      this.setState(e, 'failed', message);
      this.setState(e, 'retrying');
      e.retry = this.opts.clock.setTimeout(() => {
        e.retry = undefined;
        void this.tryStart(name);
      }, delay);
      e.retry.unref?.();
      return;
    }
    if (this.stopping) {
      // stop() began while we were starting: undo, so nothing is left half-up.
      await e.service.stop().catch(() => {});
      this.setState(e, 'stopped');
      return;
    }
    this.opts.log.info('service running', { service: name, ms: Math.round(this.opts.clock.monotonic() - t0) });
    e.status.attempts = 0;
    this.setState(e, 'running');
    // Dependents that were waiting on this one may now start.
    for (const n of this.order) {
      const d = this.entries.get(n)!;
      if (d.status.state === 'waiting' && d.status.dependsOn.includes(name)) await this.tryStart(n);
    }
  }

  /** Call from a service that broke while running: it is restarted after a backoff. */
  async reportFailure(name: string, err: unknown): Promise<void> {
    const e = this.entries.get(name);
    if (!e || e.status.state !== 'running' || this.stopping) return;
    const message = err instanceof Error ? err.message : String(err);
    this.opts.log.error('service failed while running', { service: name, error: message });
    await e.service.stop().catch(() => {});
    this.setState(e, 'failed', message);
    e.status.attempts = 1;
    this.setState(e, 'retrying');
    e.retry = this.opts.clock.setTimeout(() => {
      e.retry = undefined;
      void this.tryStart(name);
    }, this.retryBaseMs);
    e.retry.unref?.();
  }

  /**
   * Stops everything in reverse dependency order within boundMs in total.
   * A service whose stop() does not finish in its share is abandoned (logged)
   * so that shutdown as a whole stays bounded.
   */
  async stop(boundMs = 10_000): Promise<{ timedOut: string[] }> {
    this.stopping = true;
    const deadline = this.opts.clock.monotonic() + boundMs;
    const timedOut: string[] = [];
    for (const e of this.entries.values()) {
      if (e.retry) this.opts.clock.clearTimeout(e.retry);
      e.retry = undefined;
    }
    const reverse = [...(this.order.length ? this.order : this.entries.keys())].reverse();
    for (const name of reverse) {
      const e = this.entries.get(name)!;
      if (e.starting) await this.withTimeout(e.starting, Math.max(0, deadline - this.opts.clock.monotonic()), '').catch(() => {});
      if (e.status.state !== 'running') {
        if (e.status.state !== 'stopped') this.setState(e, 'stopped');
        continue;
      }
      this.setState(e, 'stopping');
      const left = Math.max(0, deadline - this.opts.clock.monotonic());
      try {
        await this.withTimeout(e.service.stop(), left, `stop of "${name}" did not finish in time`);
        this.setState(e, 'stopped');
      } catch (err) {
        timedOut.push(name);
        this.opts.log.error('service did not stop cleanly', { service: name, error: err instanceof Error ? err.message : String(err) });
        this.setState(e, 'stopped', String(err));
      }
    }
    return { timedOut };
  }

  private withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.opts.clock.setTimeout(() => reject(new Error(message)), ms);
      timer.unref?.();
      p.then(
        (v) => {
          this.opts.clock.clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          this.opts.clock.clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
