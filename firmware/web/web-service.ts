import { createServer, type Server } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service, ServiceStatus } from '../core/service.js';
import type { ConfigStore } from '../config/store.js';
import { addAuthRoutes } from './api/auth-routes.js';
import { addConfigRoutes } from './api/config-routes.js';
import { AuditLog } from './audit.js';
import { LoginGuard } from './auth/login-guard.js';
import { SessionStore } from './auth/sessions.js';
import { UserStore } from './auth/users.js';
import { WebAuth } from './auth/web-auth.js';
import { Router } from './http/router.js';

export interface WebServiceDeps {
  log: Logger;
  clock: Clock;
  config: ConfigStore;
  /** Where users.json and audit.log live. */
  dataDir: string;
  /** Read at start(), so a changed port takes effect on the next restart of the service. */
  listen: () => { port: number; host: string };
  status: () => ServiceStatus[];
}

/**
 * The LAN HTTP server and its API. Every route declares who may call it
 * (public, setup, or a role); the only public ones are health, setup status
 * and login.
 */
export class WebService implements Service {
  readonly name = 'web';
  private server?: Server;
  private address?: { port: number; host: string };
  private audit?: AuditLog;
  router?: Router;

  constructor(private readonly deps: WebServiceDeps) {}

  get port(): number | undefined {
    return this.address?.port;
  }

  async start(): Promise<void> {
    const { clock, log } = this.deps;
    const users = new UserStore(this.deps.dataDir, clock);
    await users.load();
    const audit = new AuditLog(this.deps.dataDir, clock);
    await audit.open();
    this.audit = audit;
    const sessions = new SessionStore(clock);
    const router = new Router(new WebAuth(users, sessions), log);
    this.router = router;
    router.add({
      method: 'GET', path: '/healthz', access: 'public', summary: 'liveness for monitoring: ok or degraded, nothing else',
      handler: async () => {
        const services = this.deps.status();
        const running = services.filter((s) => s.state === 'running').length;
        const ok = running === services.length;
        return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', services: { running, total: services.length } } };
      },
    });
    addAuthRoutes(router, { users, sessions, guard: new LoginGuard(clock), audit });
    addConfigRoutes(router, { config: this.deps.config, audit });
    if (users.setupNeeded) log.warn('no account yet: open the web page to create the admin account');

    const { port, host } = this.deps.listen();
    const server = createServer((req, res) => void router.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.maxHeadersCount = 64;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    this.address = { port: typeof a === 'object' && a ? a.port : port, host };
    log.info('web listening', this.address);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.audit?.close();
    this.audit = undefined;
  }
}
