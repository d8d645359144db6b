/**
 * RTSP client for IP cameras: OPTIONS, DESCRIBE (redirects, auth), SETUP
 * (TCP interleaved, or UDP with a fallback to TCP when nothing arrives),
 * PLAY, keep-alive, TEARDOWN. Hands each track's RTP and RTCP packets to its
 * sink and emits them, as they arrive; depacketizing is the rtp package's
 * job (see source.ts).
 *
 * Lifecycle: start() → 'rtp'/'rtcp' events → exactly one 'close' event,
 * with an RtspError unless close()/stop() was called.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import { Authenticator } from './auth.js';
import { RtspConnection } from './connection.js';
import { RtspConnectionError, RtspError, RtspProtocolError, RtspStatusError, RtspTimeout, RtspUnauthorized } from './errors.js';
import { RtspHeaders, type RtspResponse } from './message.js';
import type { RtspLimits } from './parser.js';
import { mediaUrl, parseSdp, resolveControl, sdpBaseUrl, type RtpMap, type Sdp, type SdpMedia } from './sdp.js';
import { buildTransport, parseSession, parseTransport, parseRtpInfo, type RtpInfo, type TransportSpec } from './transport.js';
import { bindPortPair } from './udp.js';

export interface RtspClientOptions {
  /** rtsp://[user:password@]host[:port]/path; credentials here are used and never sent in request lines. */
  url: string;
  username?: string;
  password?: string;
  /** 'udp' falls back to TCP when no packet arrives within udpTimeoutMs. Default 'tcp'. */
  transport?: 'tcp' | 'udp';
  /** Per request (and TCP connect). Default 10 s. */
  timeoutMs?: number;
  /** Default 3 s. */
  udpTimeoutMs?: number;
  /** No RTP at all for this long after PLAY closes the client with RtspTimeout. Default 10 s. */
  mediaTimeoutMs?: number;
  maxRedirects?: number;
  /**
   * Over TCP, let the kernel gather this many milliseconds of media into one
   * read (SO_RCVLOWAT, see ReadBatcher): far fewer wake-ups for at most this
   * much more latency. 0 reads every packet as it comes. Default 30.
   */
  readBatchMs?: number;
  userAgent?: string;
  limits?: Partial<RtspLimits>;
}

export interface RtspTrack {
  index: number;
  media: SdpMedia;
  /** The control URL the track was set up with. */
  url: string;
  payloadType: number;
  rtpmap: RtpMap | undefined;
  fmtp: Record<string, string>;
  transport?: TransportSpec;
  /** From RTP-Info after PLAY, when the camera sends it. */
  rtpInfo?: RtpInfo;
}

/**
 * Takes every packet of the tracks as it arrives, without an event or a
 * Buffer per packet: bytes[start, end) is valid only during the call (over
 * TCP it lies in the connection's reused read buffer), so what is kept must
 * be copied.
 */
export interface RtspPacketSink {
  rtp(track: number, bytes: Uint8Array, start: number, end: number): void;
  rtcp(track: number, bytes: Uint8Array, start: number, end: number): void;
}

export interface RtspClientEvents {
  rtp: [track: number, packet: Buffer];
  rtcp: [track: number, packet: Buffer];
  /** Odd but survivable input (unknown interleaved channel, stray datagram source). */
  warning: [err: RtspError];
  close: [err: RtspError | undefined];
}

const DEFAULTS = { timeoutMs: 10000, udpTimeoutMs: 3000, mediaTimeoutMs: 10000, maxRedirects: 5 };
const REDIRECTS = new Set([301, 302, 303, 305, 307, 308]);

export class RtspClient extends EventEmitter<RtspClientEvents> {
  private url: URL;
  private readonly auth: Authenticator;
  private readonly o: Required<Pick<RtspClientOptions, 'timeoutMs' | 'udpTimeoutMs' | 'mediaTimeoutMs' | 'maxRedirects'>> & RtspClientOptions;
  private conn: RtspConnection | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private session: { id: string; timeout: number } | undefined;
  private publicMethods: Set<string> | undefined;
  private base = '';
  private sdp: Sdp | undefined;
  private lower: 'tcp' | 'udp' = 'tcp';
  private channels = new Map<number, { track: number; rtcp: boolean }>();
  private udp: { rtp: UdpSocket; rtcp: UdpSocket; track: number }[] = [];
  private keepAlive: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastPacketAt = 0;
  private rtpCount = 0;
  private warnedChannels = new Set<number>();
  private warnedStrangers = false;
  private closed = false;
  tracks: RtspTrack[] = [];
  /** Where packets go besides the 'rtp'/'rtcp' events (which cost a copy each over TCP, so only listeners get them). */
  sink: RtspPacketSink | undefined;

  constructor(options: RtspClientOptions) {
    super();
    this.o = { ...DEFAULTS, ...options };
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new RtspError('invalid RTSP URL');
    }
    if (url.protocol !== 'rtsp:') throw new RtspError(`unsupported URL scheme ${url.protocol}`);
    let username: string;
    let password: string;
    try {
      username = options.username ?? decodeURIComponent(url.username);
      password = options.password ?? decodeURIComponent(url.password);
    } catch {
      throw new RtspError('invalid percent-encoding in the URL credentials');
    }
    url.username = '';
    url.password = '';
    this.url = url;
    this.auth = new Authenticator(username || password ? { username, password } : undefined);
  }

  /** The URL in use (after redirects), without credentials. */
  get currentUrl(): string {
    return this.url.href;
  }
  get transport(): 'tcp' | 'udp' {
    return this.lower;
  }
  get sessionTimeout(): number | undefined {
    return this.session?.timeout;
  }

  /**
   * OPTIONS, DESCRIBE, SETUP of the selected media (default: every audio and
   * video section), PLAY. Resolves after PLAY; over UDP only once a packet
   * arrived, or after the switch to TCP when none did.
   */
  async start(select: (m: SdpMedia) => boolean = (m) => m.type === 'video' || m.type === 'audio'): Promise<RtspTrack[]> {
    try {
      try {
        await this.options();
      } catch (e) {
        // Some cameras answer OPTIONS with 405/501 yet stream fine; only the Public list is lost.
        if (!(e instanceof RtspStatusError)) throw e;
      }
      const sdp = await this.describe();
      const media = sdp.media.filter(select);
      if (media.length === 0) throw new RtspProtocolError('the SDP offers no media to set up');
      const want = this.o.transport ?? 'tcp';
      await this.setupAll(media, want);
      const before = this.rtpCount;
      await this.play();
      if (want === 'udp' && !(await this.firstPacket(this.o.udpTimeoutMs, before))) {
        // Typical behind NAT or a firewall: the camera's datagrams never reach us.
        this.emit('warning', new RtspTimeout(`no UDP packet within ${this.o.udpTimeoutMs} ms, switching to TCP`));
        await this.restartOverTcp(media);
      }
      this.startTimers();
      if (this.lower === 'tcp') this.conn?.batchReads(this.o.readBatchMs ?? 30);
      return this.tracks;
    } catch (e) {
      const err = e instanceof RtspError ? e : new RtspError(String(e));
      this.shutdown(err);
      throw err;
    }
  }

  async options(): Promise<RtspResponse> {
    const res = await this.request('OPTIONS', this.url.href);
    const pub = res.headers.get('public');
    if (pub) this.publicMethods = new Set(pub.split(',').map((m) => m.trim().toUpperCase()));
    return res;
  }

  /** DESCRIBE, following redirects; the SDP and its base URL are kept for SETUP. */
  async describe(): Promise<Sdp> {
    for (let hop = 0; ; hop++) {
      const headers = new RtspHeaders({ Accept: 'application/sdp' });
      const res = await this.request('DESCRIBE', this.url.href, headers, true);
      if (REDIRECTS.has(res.status)) {
        const location = res.headers.get('location');
        if (!location) throw new RtspProtocolError(`DESCRIBE redirect ${res.status} without Location`);
        if (hop >= this.o.maxRedirects) throw new RtspProtocolError(`more than ${this.o.maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(location, this.url);
        } catch {
          throw new RtspProtocolError('DESCRIBE redirect to an invalid URL');
        }
        if (next.protocol !== 'rtsp:') throw new RtspProtocolError(`redirect to unsupported scheme ${next.protocol}`);
        next.username = '';
        next.password = '';
        const sameServer = next.host === this.url.host;
        this.url = next;
        if (!sameServer) {
          this.dropConnection();
          // Do not volunteer an answer to the old server's challenge to a new one.
          this.auth.reset();
        }
        continue;
      }
      if (res.status !== 200) throw new RtspStatusError(res.status, res.reason, 'DESCRIBE');
      const type = res.headers.get('content-type') ?? 'application/sdp';
      if (!/^application\/sdp/i.test(type)) throw new RtspProtocolError(`DESCRIBE returned ${type.slice(0, 40)}, not SDP`);
      this.sdp = parseSdp(Buffer.from(res.body).toString('utf8'));
      this.base = sdpBaseUrl(this.url.href, res.headers);
      return this.sdp;
    }
  }

  async play(): Promise<RtspResponse> {
    const res = await this.request('PLAY', resolveAggregate(this.sdp, this.base, this.url.href), new RtspHeaders({ Range: 'npt=0.000-' }));
    const info = res.headers.get('rtp-info');
    if (info) {
      for (const i of parseRtpInfo(info)) {
        const t = this.tracks.find((t) => t.url === i.url || i.url.endsWith(t.media.control ?? '\0'));
        if (t) t.rtpInfo = i;
      }
    }
    this.lastPacketAt = Date.now();
    return res;
  }

  /** Sends RTCP (a receiver report) for a track over the transport in use. */
  sendRtcp(track: number, data: Uint8Array): void {
    const t = this.tracks[track];
    if (!t?.transport || this.closed) return;
    if (this.lower === 'tcp') {
      const ch = t.transport.interleaved?.[1];
      if (ch !== undefined) this.conn?.sendInterleaved(ch, data);
      return;
    }
    const u = this.udp.find((s) => s.track === track);
    const port = t.transport.serverPort?.[1];
    const host = t.transport.source ?? this.conn?.remoteAddress;
    if (u && port && host) u.rtcp.send(data, port, host);
  }

  /** TEARDOWN (bounded by the request timeout) and close. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.clearTimers();
    if (this.session && this.conn && !this.conn.closed) {
      try {
        await this.request('TEARDOWN', resolveAggregate(this.sdp, this.base, this.url.href));
      } catch {
        // The camera may already be gone; we are closing anyway.
      }
    }
    this.shutdown(undefined);
  }

  /** Closes at once, without TEARDOWN. */
  close(): void {
    this.shutdown(undefined);
  }

  private async setupAll(media: SdpMedia[], lower: 'tcp' | 'udp'): Promise<void> {
    this.lower = lower;
    this.tracks = [];
    this.channels.clear();
    for (const [i, m] of media.entries()) {
      const pt = m.payloadTypes[0];
      if (pt === undefined) throw new RtspProtocolError(`media ${m.type} has no payload type`);
      const track: RtspTrack = { index: i, media: m, url: mediaUrl(this.sdp!, m, this.base), payloadType: pt, rtpmap: m.rtpmap.get(pt), fmtp: m.fmtp.get(pt) ?? {} };
      this.tracks.push(track);
      let requested: string;
      if (lower === 'tcp') {
        requested = buildTransport({ lower: 'tcp', interleaved: [i * 2, i * 2 + 1] });
      } else {
        const type = isIP(this.conn?.remoteAddress ?? '') === 6 ? 'udp6' : 'udp4';
        const [rtp, rtcp] = await bindPortPair(type);
        this.udp.push({ rtp, rtcp, track: i });
        this.listenUdp(rtp, i, false);
        this.listenUdp(rtcp, i, true);
        requested = buildTransport({ lower: 'udp', clientPort: [rtp.address().port, rtcp.address().port] });
      }
      const res = await this.request('SETUP', track.url, new RtspHeaders({ Transport: requested }));
      const session = res.headers.get('session');
      if (!session) throw new RtspProtocolError('SETUP response without Session');
      const s = parseSession(session);
      if (this.session && this.session.id !== s.id) throw new RtspProtocolError('SETUP returned a different Session id');
      this.session = s;
      const tv = res.headers.get('transport');
      if (!tv) throw new RtspProtocolError('SETUP response without Transport');
      const spec = parseTransport(tv)[0]!;
      if (spec.lower !== lower) throw new RtspProtocolError(`asked for ${lower.toUpperCase()}, the camera answered ${spec.protocol}`);
      if (lower === 'tcp') {
        // The camera may pick other channels than we asked for.
        const [a, b] = spec.interleaved ?? [i * 2, i * 2 + 1];
        spec.interleaved = [a, b];
        this.channels.set(a, { track: i, rtcp: false });
        this.channels.set(b, { track: i, rtcp: true });
      } else if (!spec.serverPort) {
        throw new RtspProtocolError('UDP SETUP response without server_port');
      }
      track.transport = spec;
    }
    this.conn!.onInterleaved = (ch, bytes, start, end) => this.onInterleaved(ch, bytes, start, end);
  }

  private async restartOverTcp(media: SdpMedia[]): Promise<void> {
    try {
      await this.request('TEARDOWN', resolveAggregate(this.sdp, this.base, this.url.href));
    } catch {
      // Best effort; a new connection and session follow.
    }
    this.closeUdp();
    this.session = undefined;
    this.dropConnection();
    await this.setupAll(media, 'tcp');
    const before = this.rtpCount;
    await this.play();
    if (!(await this.firstPacket(this.o.mediaTimeoutMs, before))) throw new RtspTimeout(`no media within ${this.o.mediaTimeoutMs} ms of PLAY`);
  }

  /** Resolves true when an RTP packet arrived since rtpCount was `since`, waiting up to ms. */
  private firstPacket(ms: number, since: number): Promise<boolean> {
    return new Promise((resolve) => {
      // Media may beat the PLAY response.
      if (this.rtpCount > since) return resolve(true);
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.off('rtp', onRtp);
        this.off('close', onClose);
        resolve(v);
      };
      const onRtp = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.on('rtp', onRtp);
      this.on('close', onClose);
    });
  }

  private listenUdp(sock: UdpSocket, track: number, rtcp: boolean): void {
    sock.on('message', (msg, rinfo) => {
      // Only the camera may feed us: anything else on the LAN could inject video.
      const camera = this.conn?.remoteAddress;
      if (camera && rinfo.address !== camera && rinfo.address !== this.tracks[track]?.transport?.source) {
        if (!this.warnedStrangers) this.emit('warning', new RtspProtocolError(`ignoring UDP datagrams from ${rinfo.address}, not the camera`));
        this.warnedStrangers = true;
        return;
      }
      this.lastPacketAt = Date.now();
      if (!rtcp) this.rtpCount++;
      if (rtcp) this.sink?.rtcp(track, msg, 0, msg.length);
      else this.sink?.rtp(track, msg, 0, msg.length);
      this.emit(rtcp ? 'rtcp' : 'rtp', track, msg);
    });
    sock.on('error', (e) => this.shutdown(new RtspConnectionError(`UDP socket failed: ${e.message}`)));
  }

  private onInterleaved(channel: number, bytes: Uint8Array, start: number, end: number): void {
    const c = this.channels.get(channel);
    if (!c) {
      if (!this.warnedChannels.has(channel)) {
        this.warnedChannels.add(channel);
        this.emit('warning', new RtspProtocolError(`interleaved data on channel ${channel}, which no track was set up on; dropped`));
      }
      return;
    }
    this.lastPacketAt = Date.now();
    if (c.rtcp) this.sink?.rtcp(c.track, bytes, start, end);
    else {
      this.rtpCount++;
      this.sink?.rtp(c.track, bytes, start, end);
    }
    const event = c.rtcp ? 'rtcp' : 'rtp';
    if (this.listenerCount(event) > 0) this.emit(event, c.track, Buffer.from(bytes.subarray(start, end)));
  }

  private startTimers(): void {
    this.clearTimers();
    const timeout = (this.session?.timeout ?? 60) * 1000;
    this.keepAlive = setInterval(() => {
      const method = this.publicMethods?.has('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
      const uri = method === 'OPTIONS' ? this.url.href : resolveAggregate(this.sdp, this.base, this.url.href);
      this.request(method, uri).catch((e: unknown) => this.shutdown(e instanceof RtspError ? e : new RtspError(String(e))));
    }, timeout / 2);
    this.watchdog = setInterval(() => {
      const silent = Date.now() - this.lastPacketAt;
      if (silent > this.o.mediaTimeoutMs) this.shutdown(new RtspTimeout(`no media for ${Math.round(silent / 1000)} s`));
    }, Math.min(1000, this.o.mediaTimeoutMs));
  }

  private clearTimers(): void {
    clearInterval(this.keepAlive);
    clearInterval(this.watchdog);
  }

  /** One request at a time per client; a 401 is answered once with credentials. */
  private request(method: string, uri: string, headers = new RtspHeaders(), allowRedirect = false): Promise<RtspResponse> {
    const run = async (): Promise<RtspResponse> => {
      if (this.closed) throw new RtspConnectionError('client closed');
      for (let attempt = 0; ; attempt++) {
        const conn = this.connection();
        const h = new RtspHeaders(headers);
        h.set('User-Agent', this.o.userAgent ?? 'dvr-firmware');
        if (this.session) h.set('Session', this.session.id);
        const authz = this.auth.authorization(method, uri);
        if (authz) h.set('Authorization', authz);
        const res = await conn.request(method, uri, h, this.o.timeoutMs);
        if (res.status === 401) {
          const retry = attempt === 0 && this.auth.challenge(res.headers.getAll('www-authenticate'));
          if (retry) continue;
          throw new RtspUnauthorized(`${method} refused: the camera rejected the credentials (401 ${res.reason})`);
        }
        if (res.status >= 200 && res.status < 300) return res;
        if (allowRedirect && REDIRECTS.has(res.status)) return res;
        throw new RtspStatusError(res.status, res.reason, method);
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  private connection(): RtspConnection {
    if (this.conn && !this.conn.closed) return this.conn;
    const port = this.url.port ? Number(this.url.port) : 554;
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const conn = new RtspConnection(host, port, this.o.timeoutMs, this.o.limits);
    conn.on('close', (err) => {
      if (conn === this.conn) this.shutdown(err ?? new RtspConnectionError('connection closed'));
    });
    this.conn = conn;
    return conn;
  }

  /** Closes the connection without closing the client (redirect, transport switch). */
  private dropConnection(): void {
    const c = this.conn;
    this.conn = undefined;
    c?.close();
  }

  private closeUdp(): void {
    for (const u of this.udp) {
      u.rtp.close();
      u.rtcp.close();
    }
    this.udp = [];
  }

  private shutdown(err: RtspError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.closeUdp();
    this.dropConnection();
    this.emit('close', err);
  }
}

/** PLAY/TEARDOWN go to the session-level control (aggregate), else the base URL. */
function resolveAggregate(sdp: Sdp | undefined, base: string, fallback: string): string {
  return sdp ? resolveControl(base || fallback, sdp.control) : fallback;
}
