/**
 * RTSP/1.0 server (RFC 2326) for viewers: OPTIONS, DESCRIBE, SETUP (RTP over
 * the RTSP connection, interleaved), PLAY, TEARDOWN, GET_PARAMETER as
 * keep-alive. It knows nothing of channels or users: streams come from an
 * injected `resolve(path)`, credentials from an injected HA1 lookup and
 * rights from an injected `authorize(user, path)`.
 *
 * Bounded everywhere a client could make it grow: connections, request size,
 * queued requests, socket backlog per client (slow clients skip to the next
 * keyframe, then are dropped), idle connections (session timeout).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Clock, Timer } from '../../core/clock.js';
import type { Frame, StreamInfo } from '../types.js';
import { RtspProtocolError } from './errors.js';
import { RtspHeaders, serializeInterleaved, serializeResponse, type RtspRequest } from './message.js';
import { RtspParser } from './parser.js';
import { DigestGuard, type DigestCredentialLookup } from './server-auth.js';
import { buildSdp, describeTrack, type TrackDescription } from './server-sdp.js';
import { ServerSession } from './server-session.js';
import { UdpPair } from './server-udp.js';
import { parseTransport } from './transport.js';

/** A live stream as the server sees it. */
export interface ServedStream {
  /** Current descriptions: at most one video and one audio. Empty while the source is not describing anything yet (→ 503). */
  tracks(): StreamInfo[];
  /** Frames from now on; `end` when the stream goes away for good. Returns the unsubscribe function. */
  subscribe(listener: { frame(kind: 'video' | 'audio', info: StreamInfo, frame: Frame): void; end(): void }): () => void;
}

export interface RtspServerAuth extends DigestCredentialLookup {
  realm: string;
  /** May this authenticated user watch this path? false → 403. */
  authorize(username: string, path: string): boolean;
}

export interface RtspServerOptions {
  port: number;
  host?: string;
  /** "ch1/main" (no leading slash) → the stream, or undefined (→ 404). */
  resolve(path: string): ServedStream | undefined;
  /** Absent: no authentication at all (tests, or a box on a closed network by explicit choice). */
  auth?: RtspServerAuth;
  clock: Clock;
  maxConnections?: number;
  /** RTP over UDP from this port pair (port, port + 1); 0: any free pair; absent: TCP interleaved only (461 for UDP). */
  udpPort?: number;
  /** Seconds without a request or RTCP from the client before its connection is closed. */
  sessionTimeoutSec?: number;
  maxBacklogBytes?: number;
  dropAfterMs?: number;
  /** Where noteworthy client trouble is told (never credentials). */
  onWarning?(message: string, detail: Record<string, unknown>): void;
}

export interface RtspServerStats {
  connections: number;
  playing: number;
  /** Clients closed for protocol errors, slowness or timeouts since start. */
  dropped: number;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER';
const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  454: 'Session Not Found', 455: 'Method Not Valid in This State', 459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};
const MAX_QUEUED_REQUESTS = 8;

/** Splits a request URI into the stream path and an optional track index. Exported for the fuzz tests. */
export function parseRequestTarget(uri: string): { path: string; track?: number; base: string } | null {
  const m = /^rtsps?:\/\/([^/?#\s]+)(\/[^?#\s]*)?(?:\?[^#\s]*)?$/i.exec(uri);
  if (!m) return null;
  const raw = (m[2] ?? '/').replace(/^\/+|\/+$/g, '');
  const t = /(?:^|\/)trackID=(\d{1,3})$/.exec(raw);
  const rawStream = t ? raw.slice(0, t.index) : raw;
  let path: string;
  try {
    path = decodeURIComponent(rawStream);
  } catch {
    return null;
  }
  if (path.length > 256 || /[\0-\x1f]/.test(path)) return null;
  return { path, ...(t ? { track: Number(t[1]) } : {}), base: `rtsp://${m[1]}/${rawStream}` };
}

export class RtspServer {
  private server?: Server;
  private conns = new Set<ServerConnection>();
  private guard?: DigestGuard;
  udp?: UdpPair;
  /** "address:rtcpPort" of UDP clients → their connection, for RTCP keep-alives. */
  readonly udpPeers = new Map<string, ServerConnection>();
  dropped = 0;

  constructor(readonly o: RtspServerOptions) {}

  async start(): Promise<void> {
    if (this.server) return;
    if (this.o.auth) this.guard = new DigestGuard(this.o.auth.realm, () => this.o.clock.now());
    if (this.o.udpPort !== undefined) {
      this.udp = await UdpPair.open(this.o.host ?? '0.0.0.0', this.o.udpPort);
      this.udp.onRtcp((a, p) => this.udpPeers.get(`${a}:${p}`)?.touch());
    }
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.o.port, this.o.host ?? '0.0.0.0', () => {
        server.off('error', rej);
        res();
      });
    });
    server.on('error', (e) => this.o.onWarning?.('RTSP server socket error', { error: e.message }));
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.o.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of [...this.conns]) c.close();
    this.udp?.close();
    this.udp = undefined;
    if (s) await new Promise<void>((res) => s.close(() => res()));
  }

  stats(): RtspServerStats {
    let playing = 0;
    for (const c of this.conns) if (c.session?.playing) playing++;
    return { connections: this.conns.size, playing, dropped: this.dropped };
  }

  private accept(socket: Socket): void {
    if (this.conns.size >= (this.o.maxConnections ?? 32)) {
      // No request yet, so no CSeq to echo; a clear status beats a silent reset.
      socket.end('RTSP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const c = new ServerConnection(this, socket, this.guard);
    this.conns.add(c);
    socket.once('close', () => {
      this.conns.delete(c);
      c.close();
    });
  }

  /** For ServerConnection. */
  warn(message: string, detail: Record<string, unknown>): void {
    this.o.onWarning?.(message, detail);
  }
}

class ServerConnection {
  session?: ServerSession;
  private parser = new RtspParser({ maxLineLength: 2048, maxHeaders: 32, maxHeadBytes: 8192, maxBodyBytes: 4096 });
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private user?: string;
  private described = new Map<string, TrackDescription[]>();
  private unsubscribe?: () => void;
  private timer?: Timer;
  private lastActivity: number;
  private closed = false;
  private readonly peer: string;

  constructor(
    private readonly srv: RtspServer,
    private readonly socket: Socket,
    private readonly guard: DigestGuard | undefined,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => this.close());
    this.lastActivity = srv.o.clock.monotonic();
    this.armTimeout();
  }

  private get timeoutMs(): number {
    return (this.srv.o.sessionTimeoutSec ?? 60) * 1000;
  }

  private armTimeout(delay = this.timeoutMs): void {
    this.timer = this.srv.o.clock.setTimeout(() => {
      const quiet = this.srv.o.clock.monotonic() - this.lastActivity;
      if (quiet < this.timeoutMs) return this.armTimeout(this.timeoutMs - quiet);
      this.srv.dropped++;
      this.srv.warn('RTSP client timed out', { peer: this.peer });
      this.close();
    }, delay);
  }

  touch(): void {
    this.lastActivity = this.srv.o.clock.monotonic();
  }

  close(): void {
    for (const [k, c] of this.srv.udpPeers) if (c === this) this.srv.udpPeers.delete(k);
    if (this.closed) return;
    this.closed = true;
    if (this.timer) this.srv.o.clock.clearTimeout(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.session) this.session.playing = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = this.srv.o.clock.monotonic();
    let items;
    try {
      items = this.parser.push(chunk);
    } catch (e) {
      // Framing is lost after garbage: answer once, clearly, and hang up.
      this.srv.dropped++;
      this.srv.warn('RTSP client sent a malformed request', { peer: this.peer, error: (e as Error).message });
      this.socket.end(serializeResponse({ version: 'RTSP/1.0', status: 400, reason: 'Bad Request', headers: new RtspHeaders(), body: new Uint8Array(0) }));
      this.closed = true;
      this.unsubscribe?.();
      if (this.timer) this.srv.o.clock.clearTimeout(this.timer);
      // A peer that never closes its side must not keep the connection slot.
      setTimeout(() => this.socket.destroy(), 1000).unref();
      return;
    }
    for (const item of items) {
      if (item.type !== 'request') continue; // RTCP receiver reports and stray responses only count as activity
      if (++this.queued > MAX_QUEUED_REQUESTS) {
        this.srv.dropped++;
        this.srv.warn('RTSP client floods requests', { peer: this.peer });
        this.close();
        return;
      }
      const req = item.message;
      this.queue = this.queue.then(async () => {
        this.queued--;
        if (this.closed) return;
        let status = 500;
        const headers = new RtspHeaders();
        let body: Uint8Array = new Uint8Array(0);
        let after: (() => void) | undefined;
        try {
          const r = await this.handle(req, headers);
          status = r.status;
          if (r.body) body = r.body;
          after = r.after;
        } catch (e) {
          status = e instanceof RtspProtocolError ? 400 : 500;
          if (status === 500) this.srv.warn('RTSP request failed', { peer: this.peer, method: req.method, error: (e as Error).message });
        }
        if (this.closed) return;
        const cseq = req.headers.get('cseq');
        const out = new RtspHeaders();
        if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) out.set('CSeq', cseq);
        out.set('Server', 'dvr-firmware');
        for (const [k, v] of headers) out.append(k, v);
        if (body.length === 0) out.set('Content-Length', '0');
        this.socket.write(serializeResponse({ version: 'RTSP/1.0', status, reason: REASONS[status] ?? 'Error', headers: out, body }));
        after?.();
      });
    }
  }

  private async authenticate(req: RtspRequest, path: string, headers: RtspHeaders): Promise<number | null> {
    const auth = this.srv.o.auth;
    if (!auth || !this.guard) return null;
    const header = req.headers.get('authorization');
    if (!header && this.user !== undefined) return auth.authorize(this.user, path) ? null : 403;
    const r = await this.guard.verify(req.method, req.uri, header, auth);
    if (!r.ok) {
      if (header) this.srv.warn('RTSP authentication refused', { peer: this.peer, reason: r.reason });
      headers.set('WWW-Authenticate', this.guard.challenge(r.stale));
      return 401;
    }
    this.user = r.username;
    return auth.authorize(r.username, path) ? null : 403;
  }

  private async handle(req: RtspRequest, h: RtspHeaders): Promise<{ status: number; body?: Uint8Array; after?: () => void }> {
    if (req.version !== 'RTSP/1.0') return { status: 505 };
    if (!/^\d{1,10}$/.test(req.headers.get('cseq') ?? '')) return { status: 400 };
    if (req.method === 'OPTIONS') {
      h.set('Public', PUBLIC);
      return { status: 200 };
    }
    if (!['DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN', 'GET_PARAMETER'].includes(req.method)) {
      h.set('Allow', PUBLIC);
      return { status: req.method === 'PAUSE' || req.method === 'RECORD' || req.method === 'ANNOUNCE' ? 405 : 501 };
    }
    const target = req.uri === '*' && req.method === 'GET_PARAMETER' ? { path: this.session?.path ?? '', base: '' } : parseRequestTarget(req.uri);
    if (!target) return { status: 400 };
    const denied = await this.authenticate(req, target.path, h);
    if (denied !== null) return { status: denied };
    const sessionHeader = req.headers.get('session')?.split(';')[0]?.trim();
    if (sessionHeader !== undefined && sessionHeader !== this.session?.id) return { status: 454 };
    const timeout = this.srv.o.sessionTimeoutSec ?? 60;
    if (req.method === 'GET_PARAMETER') {
      if (this.session) h.set('Session', `${this.session.id};timeout=${timeout}`);
      return { status: 200 };
    }
    if (req.method === 'TEARDOWN') {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.session = undefined;
      return { status: 200 };
    }
    const stream = this.srv.o.resolve(target.path);
    if (!stream) return { status: 404 };
    if (req.method === 'DESCRIBE') {
      const infos = stream.tracks();
      if (infos.length === 0) return { status: 503 };
      const descs = describeAll(infos);
      this.described.set(target.path, descs);
      const addr = this.socket.localAddress ?? '0.0.0.0';
      h.set('Content-Base', `${target.base}/`);
      h.set('Content-Type', 'application/sdp');
      return { status: 200, body: Buffer.from(buildSdp(descs, { sessionId: String(Date.now()), address: addr.replace(/^::ffff:/, ''), name: target.path })) };
    }
    if (req.method === 'SETUP') {
      if (this.session?.playing) return { status: 455 };
      if (this.session && this.session.path !== target.path) return { status: 459 };
      const infos = stream.tracks();
      const descs = this.described.get(target.path) ?? describeAll(infos);
      const index = target.track ?? 0;
      const desc = descs[index];
      const info = infos.find((i) => (i.codec === 'aac' || i.codec === 'pcma' || i.codec === 'pcmu' ? 'audio' : 'video') === desc?.media);
      if (!desc || !info) return { status: 404 };
      let alts;
      try {
        alts = parseTransport(req.headers.get('transport') ?? '');
      } catch {
        return { status: 461 };
      }
      const tcp = alts.find((a) => a.lower === 'tcp' && a.unicast);
      const peer = (this.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      const udp = this.srv.udp && /^\d+\.\d+\.\d+\.\d+$/.test(peer) ? alts.find((a) => a.lower === 'udp' && a.unicast && a.clientPort) : undefined;
      if (!tcp && !udp) return { status: 461 }; // multicast, or UDP when it is not offered
      // Over UDP the "channels" are this connection's own numbers for the track, mapped to the client's ports.
      const channels = tcp ? (tcp.interleaved ?? [index * 2, index * 2 + 1]) : [256 + index * 2, 256 + index * 2 + 1];
      const session = this.session ?? new ServerSession(target.path, () => this.srv.o.clock.monotonic(), {
        maxBacklogBytes: this.srv.o.maxBacklogBytes ?? 2 << 20,
        dropAfterMs: this.srv.o.dropAfterMs ?? 10_000,
      });
      if (session.tracks.some((t) => t.rtpChannel === channels[0] && t.index !== index)) return { status: 461 };
      const t = session.addTrack(index, info, desc, channels[0]);
      this.session = session;
      const ssrc = t.packetizer.ssrc.toString(16).padStart(8, '0').toUpperCase();
      if (tcp) h.set('Transport', `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]};ssrc=${ssrc}`);
      else {
        const cp = udp!.clientPort!;
        this.udpDest.set(channels[0], { host: peer, port: cp[0], rtcp: false });
        this.udpDest.set(channels[1], { host: peer, port: cp[1], rtcp: true });
        this.srv.udpPeers.set(`${peer}:${cp[1]}`, this);
        const sp = this.srv.udp!.ports;
        h.set('Transport', `RTP/AVP;unicast;client_port=${cp[0]}-${cp[1]};server_port=${sp[0]}-${sp[1]};ssrc=${ssrc}`);
      }
      h.set('Session', `${session.id};timeout=${timeout}`);
      return { status: 200 };
    }
    // PLAY
    const session = this.session;
    if (!session) return { status: 454 };
    if (session.path !== target.path) return { status: 459 };
    if (session.tracks.length === 0) return { status: 455 };
    h.set('Session', `${session.id};timeout=${timeout}`);
    h.set('Range', 'npt=now-');
    h.set('RTP-Info', session.tracks.map((t) => `url=${target.base}/trackID=${t.index};seq=${t.packetizer.nextSequence};rtptime=${t.packetizer.firstTimestamp}`).join(','));
    if (session.playing) return { status: 200 };
    // Frames only after the PLAY response is on the wire.
    return {
      status: 200,
      after: () => {
        session.playing = true;
        this.unsubscribe = stream.subscribe({
          frame: (kind, info, frame) => {
            this.output.backlog = this.socket.writableLength;
            session.deliver(kind, info, frame, this.output);
          },
          end: () => this.close(),
        });
      },
    };
  }

  private readonly udpDest = new Map<number, { host: string; port: number; rtcp: boolean }>();

  private readonly output = {
    backlog: 0,
    send: (channel: number, packets: Uint8Array[]): void => {
      if (this.closed) return;
      const d = this.udpDest.get(channel);
      if (d) {
        for (const p of packets) this.srv.udp?.send(d.rtcp, d.host, d.port, p);
        return;
      }
      this.socket.cork();
      for (const p of packets) this.socket.write(serializeInterleaved(channel, p));
      this.socket.uncork();
    },
    end: (reason: string): void => {
      this.srv.dropped++;
      this.srv.warn('RTSP client dropped', { peer: this.peer, reason });
      this.close();
    },
  };
}

function describeAll(infos: StreamInfo[]): TrackDescription[] {
  let pt = 96;
  return infos.map((i) => describeTrack(i, pt++));
}
