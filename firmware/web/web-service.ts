import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServiceStatus } from '../core/service.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';

export interface WebServiceDeps {
  log: Logger;
  /** Read at start(), so a changed port takes effect on the next restart of the service. */
  listen: () => { port: number; host: string };
  status: () => ServiceStatus[];
}

/**
 * The LAN HTTP server. For now it serves only the health endpoint, the one
 * route that needs no login (it tells nothing but "up" or "degraded"); the
 * authenticated API and page join it in the web issue.
 */
export class WebService implements Service {
  readonly name = 'web';
  private server?: Server;
  private address?: { port: number; host: string };

  constructor(private readonly deps: WebServiceDeps) {}

  get port(): number | undefined {
    return this.address?.port;
  }

  async start(): Promise<void> {
    const { port, host } = this.deps.listen();
    const server = createServer((req, res) => this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
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
    this.deps.log.info('web listening', this.address);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.json(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      const services = this.deps.status();
      const running = services.filter((s) => s.state === 'running').length;
      const ok = running === services.length;
      return this.json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', services: { running, total: services.length } });
    }
    this.json(res, 404, { error: 'not found' });
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    });
    res.end(text);
  }
}
