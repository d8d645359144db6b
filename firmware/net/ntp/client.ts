/**
 * One SNTP exchange with a server (RFC 4330 §5, RFC 5905 §8): a request, the
 * first reply that passes every check, the clock offset and round-trip delay.
 * For the page's "Test NTP server" button and the clock status; it never sets
 * the clock.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { encodeRequest, NtpError, parseReply, requestTimestamp, type LeapIndicator, type NtpTimestamp } from './packet.js';

export interface NtpQueryOptions {
  /** UDP port of the server (123). */
  port?: number;
  /** For the whole query, name lookup included (2000 ms). */
  timeoutMs?: number;
  /**
   * Our wall clock in Unix ms (Date.now). Read once, when the request goes
   * out; the round trip is timed with the monotonic clock, so a clock step
   * during the exchange does not show up as offset or delay.
   */
  clock?: () => number;
  signal?: AbortSignal;
}

export interface NtpResult {
  /** The name or address asked for. */
  server: string;
  /** The address that answered. */
  address: string;
  stratum: number;
  /** How far the server's clock is ahead of ours (negative: behind). */
  offsetMs: number;
  /** Round trip minus the server's own processing time; never negative. */
  delayMs: number;
  /** Stratum 1: the reference clock's name; above: the upstream server's address (see NtpTimeReply). */
  refId: string;
  /** log2 of the server clock's precision in seconds, e.g. -20 ≈ 1 µs. */
  precision: number;
  leap: LeapIndicator;
  version: 3 | 4;
  rootDelayMs: number;
  rootDispersionMs: number;
}

export interface NtpFailure {
  server: string;
  error: NtpError;
}

/** What a kiss-o'-death code asks of us (RFC 5905 §7.4), for the message an installer reads. */
const KISS_MEANINGS: Record<string, string> = {
  DENY: 'access denied; do not ask this server again',
  RSTR: 'access restricted; do not ask this server again',
  RATE: 'asked too often; wait before asking again',
};

/** Asks `host` (a name, or an IPv4 or IPv6 address) for the time, once. Rejects with NtpError only. */
export async function queryNtp(host: string, opts: NtpQueryOptions = {}): Promise<NtpResult> {
  const { port = 123, timeoutMs = 2000, clock = Date.now, signal } = opts;
  if (!host) throw new NtpError('bad-argument', 'no NTP server given');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NtpError('bad-argument', `${port} is not a UDP port (1 to 65535)`);
  if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) throw new NtpError('bad-argument', `${timeoutMs} ms is not a usable timeout`);
  if (signal?.aborted) throw new NtpError('aborted', `query of ${host} cancelled`);

  // One stop signal for the timeout and the caller's cancel, whichever comes first, for both steps.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new NtpError('timeout', `${host}: no answer within ${timeoutMs} ms`)), timeoutMs);
  const onCancel = () => stop.abort(new NtpError('aborted', `query of ${host} cancelled`));
  signal?.addEventListener('abort', onCancel, { once: true });
  try {
    const { address, family } = await resolve(host, stop.signal);
    return await exchange(host, address, family, port, clock, stop.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCancel);
  }
}

/**
 * Asks each server in turn until one answers; with it, the errors of those
 * before it (what the page shows as "first server failed, second answered").
 * Rejects with 'all-failed' (every error in `failures`), 'no-servers', or
 * 'aborted' at once when the caller cancels.
 */
export async function queryFirst(hosts: readonly string[], opts: NtpQueryOptions = {}): Promise<{ result: NtpResult; failures: NtpFailure[] }> {
  if (hosts.length === 0) throw new NtpError('no-servers', 'no NTP servers given');
  const failures: NtpFailure[] = [];
  for (const server of hosts) {
    try {
      return { result: await queryNtp(server, opts), failures };
    } catch (e) {
      if (!(e instanceof NtpError) || e.code === 'aborted') throw e;
      failures.push({ server, error: e });
    }
  }
  throw new NtpError('all-failed', `no NTP server answered: ${failures.map((f) => f.error.message).join('; ')}`, { failures });
}

/** Rejects with the stop signal's reason once it fires (a timeout or the caller's cancel; never before the lookup starts). */
function stopped(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

async function resolve(host: string, stop: AbortSignal): Promise<{ address: string; family: number }> {
  const family = isIP(host);
  if (family) return { address: host, family };
  // dns.lookup (getaddrinfo, /etc/hosts included) cannot be cancelled: the race only stops waiting for it.
  const found = lookup(host).catch((e: NodeJS.ErrnoException) => {
    const why = e.code === 'ENOTFOUND' ? 'no such host name' : e.code === 'EAI_AGAIN' ? 'the DNS server did not answer' : e.message;
    throw new NtpError('dns', `${host}: cannot resolve the name (${why})`);
  });
  try {
    return await Promise.race([found, stopped(stop)]);
  } catch (e) {
    if (e instanceof NtpError && e.code === 'timeout') throw new NtpError('timeout', `${e.message} (the name did not resolve in time)`);
    throw e;
  }
}

/** A socket error in installer's words; ECONNREFUSED on a connected UDP socket is the ICMP port unreachable. */
function socketError(e: NodeJS.ErrnoException, label: string): NtpError {
  if (e.code === 'ECONNREFUSED') return new NtpError('unreachable', `${label}: no NTP server there (ICMP port unreachable)`);
  if (e.code === 'EHOSTUNREACH') return new NtpError('unreachable', `${label}: host unreachable`);
  if (e.code === 'ENETUNREACH') return new NtpError('unreachable', `${label}: network unreachable (no route)`);
  return new NtpError('socket', `${label}: ${e.message}`);
}

function exchange(host: string, address: string, family: number, port: number, clock: () => number, stop: AbortSignal): Promise<NtpResult> {
  const where = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  const label = host === address ? where : `${host} (${where})`;
  return new Promise((resolvePromise, reject) => {
    // connect(): the kernel then drops datagrams from any other address or
    // port and reports ICMP errors for this peer as socket errors.
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    let sent: NtpTimestamp | undefined;
    let t1 = 0;
    let mono1 = 0;
    let peer: { address: string; port: number } | undefined;
    const ignored: string[] = [];
    let done = false;

    const finish = (err: NtpError | null, result?: NtpResult) => {
      if (done) return;
      done = true;
      stop.removeEventListener('abort', onStop);
      socket.removeAllListeners('message');
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // an ICMP error still queued must not become an uncaught 'error'
      socket.close();
      if (err) reject(err);
      else resolvePromise(result!);
    };
    const onStop = () => {
      const reason = stop.reason as NtpError;
      // Say what was heard and refused: "nothing" and "only forged replies" are different faults.
      const n = ignored.length;
      finish(n ? new NtpError(reason.code, `${reason.message}; ${n === 1 ? '1 reply' : `${n} replies`} ignored, the last: ${ignored.at(-1)}`) : reason);
    };
    if (stop.aborted) return onStop();
    stop.addEventListener('abort', onStop, { once: true });

    socket.on('error', (e) => finish(socketError(e, label)));
    socket.on('message', (msg, rinfo) => {
      if (!sent || !peer) return;
      // The kernel filters a connected socket already; this is the same rule, stated where it matters.
      if (rinfo.address !== peer.address || rinfo.port !== peer.port) return void ignored.push(`a packet from ${rinfo.address}:${rinfo.port}`);
      const t4 = t1 + (performance.now() - mono1);
      let reply;
      try {
        reply = parseReply(msg, sent, t4);
      } catch (e) {
        const err = e as NtpError;
        // Not (provably) the server's answer to us: keep waiting for the real one.
        if (err.code === 'truncated' || err.code === 'spoofed') return void ignored.push(err.message);
        return finish(new NtpError(err.code, `${label}: ${err.message}`));
      }
      if (reply.kind === 'kiss') {
        const meaning = KISS_MEANINGS[reply.code];
        return finish(new NtpError('kiss', `${label} refused to answer: kiss-o'-death ${reply.code || '(no code)'}${meaning ? ` (${meaning})` : ''}`, { kiss: reply.code }));
      }
      const t2 = reply.receiveMs;
      const t3 = reply.transmitMs;
      finish(null, {
        server: host,
        address,
        stratum: reply.stratum,
        offsetMs: (t2 - t1 + (t3 - t4)) / 2,
        // Negative only through rounding or a server whose two timestamps disagree; RFC 5905 clamps it too.
        delayMs: Math.max(0, t4 - t1 - (t3 - t2)),
        refId: reply.refId,
        precision: reply.precision,
        leap: reply.leap,
        version: reply.version,
        rootDelayMs: reply.rootDelayMs,
        rootDispersionMs: reply.rootDispersionMs,
      });
    });
    // The callback takes the error when there is one (the typings omit it).
    socket.connect(port, address, (e?: Error) => {
      if (done) return;
      if (e) return finish(socketError(e, label));
      peer = socket.remoteAddress();
      mono1 = performance.now();
      t1 = clock();
      sent = requestTimestamp(t1);
      socket.send(encodeRequest(sent), (e) => {
        if (e) finish(socketError(e, label));
      });
    });
  });
}
