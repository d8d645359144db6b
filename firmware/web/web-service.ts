import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../core/clock.js';
import type { LogRecord, Logger } from '../core/log.js';
import type { Service, ServiceStatus } from '../core/service.js';
import type { ConfigStore } from '../config/store.js';
import { addAuthRoutes } from './api/auth-routes.js';
import { addChannelRoutes } from './api/channel-routes.js';
import { addSnapshotRoutes } from './api/snapshot-routes.js';
import type { LiveSnapshots } from '../snapshots/live.js';
import { addConfigRoutes } from './api/config-routes.js';
import { AuditLog } from './audit.js';
import { LoginGuard } from './auth/login-guard.js';
import { SessionStore } from './auth/sessions.js';
import { UserStore, type PasswordHooks } from './auth/users.js';
import { WebAuth } from './auth/web-auth.js';
import { ApiTokenStore } from './auth/tokens.js';
import { addTokenRoutes } from './api/token-routes.js';
import { addOpenApiRoute } from './api/openapi.js';
import { addPtzRoutes, type PtzByChannel } from './api/ptz-routes.js';
import { addMaintenanceRoutes, type RestartKind } from './api/maintenance-routes.js';
import { addMqttRoutes } from './api/mqtt-routes.js';
import { addEventRoutes } from './api/event-routes.js';
import { addConsoleRoutes, type ConsolePopup } from './api/console-routes.js';
import { addSystemRoutes } from './api/system-routes.js';
import { addNetworkRoutes } from './api/network-routes.js';
import type { NetworkService } from '../system/network/network-service.js';
import { addUpgradeRoutes } from './api/upgrade-routes.js';
import type { Upgrader } from '../upgrade/installer.js';
import type { EventJournal } from '../events/journal.js';
import { rightsOn } from './auth/roles.js';
import { LiveView, type LiveSources } from './live/live-view.js';
import type { SocketAuth } from './live/socket-auth.js';
import { PlaybackView } from './live/playback-view.js';
import { addRecordingRoutes } from './api/recording-routes.js';
import type { RingStore } from '../storage/ring-store.js';
import { addDiskRoutes } from './api/disk-routes.js';
import { addOnvifRoutes, type OnvifRouteOptions } from './api/onvif-routes.js';
import type { DiskTools } from '../storage/commands.js';
import { addPageRoutes, loadPageAssets } from './page-assets.js';
import { malformedPath, Router, SECURITY_HEADERS, send, type Reply } from './http/router.js';
import { int, object, oneOf, type Infer } from '../core/schema.js';
import { ensureCertificate, type TlsMaterial } from './tls.js';

const HEALTH = object({ status: oneOf(['ok', 'degraded'] as const), services: object({ running: int({ min: 0 }), total: int({ min: 0 }) }) });

export interface Listen {
  host: string;
  httpPort: number;
  httpsPort: number;
}

export interface WebServiceDeps {
  log: Logger;
  clock: Clock;
  config: ConfigStore;
  /** Where users.json, audit.log and tls/ live. */
  dataDir: string;
  /** Read at start(), so changed ports take effect on the next restart of the service. */
  listen: () => Listen;
  status: () => ServiceStatus[];
  /** Told of every password set or verified (the RTSP restream keeps its Digest secrets from it). */
  passwords?: PasswordHooks;
  /** The channels' live frames, for the page's live view (none: the live view answers 404). */
  live?: () => LiveSources | undefined;
  /** Channels' pictures for viewing, where the browser cannot play the stream (none: the snapshot route answers 503). */
  snapshots?: () => Pick<LiveSnapshots, 'take'> | undefined;
  /** The recording store, for the timeline, playback and export (none: those answer 503). */
  store?: () => RingStore | undefined;
  /** The disk tools behind `dvr disk`, for the storage page (none: 503). */
  disks?: () => DiskTools | undefined;
  /** The PTZ domes by channel (none: PTZ routes answer 404). */
  ptz?: () => PtzByChannel | undefined;
  /** The event journal, for the event list (none: 503). */
  events?: () => EventJournal | undefined;
  /** Subscribes to the linkage rules' popups, for the page as a console (none: the stream stays quiet). */
  popups?: (listener: (p: ConsolePopup) => void) => () => void;
  /** The firmware version, for the API document and the maintenance page. */
  version?: string;
  /** The board profile's name, for the maintenance page. */
  board?: string;
  /** The firmware's recent log records (oldest first), for the logs download. */
  logs?: () => LogRecord[];
  /** Restarts the firmware or the board (none: restart answers 503, a factory reset applies at the next start). */
  restart?: { kind: RestartKind; run: () => void };
  /** Installs uploaded firmware bundles (none: the board takes no upgrade, the upgrade routes say so). */
  upgrader?: () => Upgrader | undefined;
  /** The box's own network (none: GET /api/v1/network says it is not managed). */
  network?: () => NetworkService | undefined;
  /** UDP port of NTP servers for the NTP test (default 123; tests use a server of their own). */
  ntpPort?: number;
  /** Finding and checking ONVIF cameras for the add-camera page (default: the real WS-Discovery on the LAN). */
  onvif?: OnvifRouteOptions;
  /** Where the built page is (default: page/ beside this module). */
  pageDir?: string;
}

/**
 * The LAN web server: the page and API over HTTPS (certificate generated on
 * first boot), and plain HTTP that serves only /healthz and redirects
 * everything else. Every route declares who may call it.
 */
export class WebService implements Service {
  readonly name = 'web';
  private servers: Server[] = [];
  private audit?: AuditLog;
  router?: Router;
  /** The accounts, once started (the RTSP restream checks viewers' rights against them). */
  users?: UserStore;
  ports?: { http: number; https: number };
  live?: LiveView;
  playback?: PlaybackView;
  /** The certificate the page is served with, for tests and the console. */
  certificate?: { cert: string; fingerprint: string };

  constructor(private readonly deps: WebServiceDeps) {}

  async start(): Promise<void> {
    const { clock, log } = this.deps;
    const tls = await ensureCertificate(join(this.deps.dataDir, 'tls'));
    if (tls.generated) log.info('generated the HTTPS certificate', { fingerprint: tls.fingerprint });
    this.certificate = { cert: tls.cert, fingerprint: tls.fingerprint };
    const users = new UserStore(this.deps.dataDir, clock, this.deps.passwords);
    await users.load();
    this.users = users;
    const audit = new AuditLog(this.deps.dataDir, clock);
    await audit.open();
    this.audit = audit;
    const sessions = new SessionStore(clock);
    const tokens = new ApiTokenStore(this.deps.dataDir, clock);
    await tokens.load();
    const auth = new WebAuth(users, sessions, tokens);
    const router = new Router(auth, log);
    this.router = router;
    const socketAuth: SocketAuth = {
      setupNeeded: () => users.setupNeeded,
      identify: async (req) => (await auth.identify(req, 'GET'))?.account ?? null,
      may: (a, channel, right) => rightsOn(a.role, a.channels, channel).includes(right),
    };
    const noLive: LiveSources = { has: () => false, subscribe: () => () => {} };
    const live = new LiveView({
      log: log.child('live'),
      clock,
      sources: { has: (c, v) => (this.deps.live?.() ?? noLive).has(c, v), subscribe: (c, v, l) => (this.deps.live?.() ?? noLive).subscribe(c, v, l) },
      auth: socketAuth,
    });
    this.live = live;
    const config = this.deps.config;
    const channelIds = () => [...config.get().channels.map((c) => c.id), ...config.get().dvrChannels.map((c) => c.id)];
    const store = () => this.deps.store?.();
    const playback = new PlaybackView({ log: log.child('playback'), clock, auth: socketAuth, store, channels: channelIds });
    this.playback = playback;
    router.add({
      method: 'GET', path: '/healthz', access: 'public', summary: 'liveness for monitoring: ok or degraded, nothing else',
      response: { json: HEALTH, also: [503], description: 'ok (200), or degraded (503) while a service is not running' },
      handler: async () => this.health(),
    });
    addAuthRoutes(router, { users, sessions, guard: new LoginGuard(clock), audit });
    addConfigRoutes(router, { config: this.deps.config, audit });
    const ptz = () => this.deps.ptz?.();
    addChannelRoutes(router, { config: this.deps.config, hasPtz: (c) => ptz()?.domeOfChannel(c) !== undefined });
    addPtzRoutes(router, { ptz, audit });
    addSnapshotRoutes(router, { config, snapshots: () => this.deps.snapshots?.() });
    addEventRoutes(router, { events: () => this.deps.events?.(), channels: channelIds });
    addConsoleRoutes(router, { popups: () => this.deps.popups });
    addSystemRoutes(router, { config: this.deps.config, audit, clock, version: this.deps.version ?? 'dev', board: this.deps.board ?? 'unknown', logs: () => this.deps.logs?.() ?? [] });
    addTokenRoutes(router, { tokens, audit });
    addMqttRoutes(router, { config: this.deps.config });
    addNetworkRoutes(router, { config: this.deps.config, clock, network: () => this.deps.network?.(), ...(this.deps.ntpPort ? { ntpPort: this.deps.ntpPort } : {}) });
    let served: TlsMaterial = tls;
    addMaintenanceRoutes(router, {
      config: this.deps.config, audit, users, tokens, sessions, tlsDir: join(this.deps.dataDir, 'tls'),
      certificate: () => served,
      useCertificate: (m) => {
        served = m;
        this.certificate = { cert: m.cert, fingerprint: m.fingerprint };
        (this.servers[0] as ReturnType<typeof createHttpsServer> | undefined)?.setSecureContext({ cert: m.cert, key: m.key, minVersion: 'TLSv1.2' });
      },
      ...(this.deps.restart ? { restart: this.deps.restart } : {}),
    });
    addUpgradeRoutes(router, { audit, version: this.deps.version ?? 'dev', upgrader: () => this.deps.upgrader?.(), ...(this.deps.restart ? { restart: this.deps.restart } : {}) });
    addOpenApiRoute(router, this.deps.version ?? 'dev');
    addRecordingRoutes(router, { store, clock, audit, channels: channelIds });
    addDiskRoutes(router, { disks: () => this.deps.disks?.(), audit });
    addOnvifRoutes(router, { ...this.deps.onvif, config: this.deps.config, log: log.child('onvif') });
    const page = await loadPageAssets(this.deps.pageDir ?? join(dirname(fileURLToPath(import.meta.url)), 'page'));
    if (!(page instanceof Map)) log.warn('the web page is not built: the API works, the page does not', { missing: page.missing });
    addPageRoutes(router, page);
    if (users.setupNeeded) log.warn('no account yet: open the web page to create the admin account');

    const { host, httpPort, httpsPort } = this.deps.listen();
    const https = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => void router.handle(req, res));
    https.on('upgrade', (req, socket, head) => {
      if (malformedPath(req.url ?? '/')) return void socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      if (live.handles(req)) return void live.upgrade(req, socket, head);
      if (playback.handles(req)) return void playback.upgrade(req, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    // The redirect names the port HTTPS really listens on (differs from the setting only when that is 0).
    const http = createHttpServer((req, res) => void this.plain(req, res, this.ports?.https ?? httpsPort));
    for (const s of [https, http]) {
      s.headersTimeout = 10_000;
      s.requestTimeout = 30_000;
      s.maxHeadersCount = 64;
    }
    // A firmware bundle of hundreds of MiB over a slow LAN; the router holds every other body to 30 s itself.
    https.requestTimeout = 30 * 60_000;
    this.servers = [https, http];
    const real = await Promise.all([listen(https, httpsPort, host), listen(http, httpPort, host)]);
    this.ports = { https: real[0], http: real[1] };
    log.info('web listening', { host, https: real[0], http: real[1] });
  }

  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.live?.closeAll();
    this.playback?.closeAll();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await this.audit?.close();
    this.audit = undefined;
  }

  private async health(): Promise<Reply<Infer<typeof HEALTH>>> {
    const services = this.deps.status();
    const running = services.filter((s) => s.state === 'running').length;
    const ok = running === services.length;
    return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', services: { running, total: services.length } } };
  }

  /** Plain HTTP: health for monitors, a redirect to HTTPS for people. */
  private async plain(req: IncomingMessage, res: ServerResponse, httpsPort: number): Promise<void> {
    const path = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : '/';
    if (path.split('?')[0] === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const r = await this.health();
      return send(res, r.status!, r.body);
    }
    // The Host header only picks the name the client already used; anything odd falls back to our own address.
    const hostHeader = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(req.headers.host ?? '') ? req.headers.host! : (req.socket.localAddress ?? 'localhost');
    const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
    res.writeHead(308, { ...SECURITY_HEADERS, location: `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`, 'content-length': 0 });
    res.end();
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}
