// queryNtp/queryFirst against a fake server on loopback that answers like a
// real one, forges, kisses, answers from elsewhere or stays silent; the real
// chronyd is in chrony.test.ts.
import t, { type Test } from 'tap';
import { queryFirst, queryNtp, type NtpResult } from '../../../../firmware/net/ntp/client.js';
import { NtpError } from '../../../../firmware/net/ntp/packet.js';
import { FakeNtpServer, freeUdpPort, realReply, type Answer } from './fake-server.js';

const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

/** Runs a query and checks that its socket is closed afterwards, however it ended. */
async function settled<T>(t: Test, query: Promise<T>): Promise<T | NtpError> {
  const before = udpHandles();
  let out: T | NtpError;
  try {
    out = await query;
  } catch (e) {
    t.ok(e instanceof NtpError, `rejected with an NtpError: ${String(e)}`);
    out = e as NtpError;
  }
  // A closed socket's handle goes away on a later turn of the event loop.
  for (let i = 0; i < 50 && udpHandles() > before; i++) await new Promise((r) => setTimeout(r, 2));
  t.ok(udpHandles() <= before, 'the socket is closed');
  return out;
}

async function withServer(t: Test, answer: Answer, address?: string, otherAddress?: string): Promise<FakeNtpServer> {
  const server = await FakeNtpServer.start(answer, address, otherAddress);
  t.teardown(() => server.close());
  return server;
}

function answered(t: Test, r: NtpResult | NtpError): NtpResult {
  if (r instanceof NtpError) {
    t.fail(`no answer: ${r.code} ${r.message}`);
    throw r;
  }
  return r;
}

function failed(t: Test, r: unknown, code: string): NtpError {
  if (!(r instanceof NtpError)) throw new Error(`expected an NtpError ${code}, got ${JSON.stringify(r)}`);
  t.equal(r.code, code, r.message);
  return r;
}

t.test('a server 5 s ahead: offset, delay and the fields of its answer', async (t) => {
  const server = await withServer(t, (req, send) => send(realReply(req, 5000)));
  const r = answered(t, await settled(t, queryNtp('127.0.0.1', { port: server.port })));
  t.match(r, { server: '127.0.0.1', address: '127.0.0.1', stratum: 2, refId: '192.168.1.1', precision: -20, leap: 0, version: 4 });
  t.ok(Math.abs(r.offsetMs - 5000) < 50, `offset ${r.offsetMs} ms`);
  t.ok(r.delayMs >= 0 && r.delayMs < 100, `delay ${r.delayMs} ms`);
  t.equal(r.rootDelayMs, 15.625);
  t.equal(server.requests.length, 1, 'one request');
  t.match(server.requests[0], { leap: 0, version: 4, mode: 3, stratum: 0 });
});

t.test('our clock 3 s behind, and a clock past 2036 with a server that agrees (era 1)', async (t) => {
  const server = await withServer(t, (req, send) => send(realReply(req, 0)));
  const behind = answered(t, await settled(t, queryNtp('127.0.0.1', { port: server.port, clock: () => Date.now() - 3000 })));
  t.ok(Math.abs(behind.offsetMs - 3000) < 50, `offset ${behind.offsetMs} ms`);

  const shift = Date.UTC(2040, 0, 1) - Date.now();
  const later = await withServer(t, (req, send) => send(realReply(req, shift)));
  const r = answered(t, await settled(t, queryNtp('127.0.0.1', { port: later.port, clock: () => Date.now() + shift })));
  t.ok(later.requests[0]!.transmit.seconds < 2 ** 31, 'the request carried an era-1 timestamp');
  t.ok(Math.abs(r.offsetMs) < 50, `offset ${r.offsetMs} ms, not 136 years`);
});

t.test('a name resolved with dns.lookup (localhost)', async (t) => {
  const server = await withServer(t, (req, send) => send(realReply(req)));
  const r = answered(t, await settled(t, queryNtp('localhost', { port: server.port })));
  t.match(r, { server: 'localhost', address: '127.0.0.1' });
});

t.test('IPv6: udp6 to ::1', async (t) => {
  let server: FakeNtpServer;
  try {
    server = await withServer(t, (req, send) => send(realReply(req)), '::1');
  } catch (e) {
    t.skip(`::1 cannot be bound here (${String(e)}): no IPv6 loopback`, () => {});
    return;
  }
  const r = answered(t, await settled(t, queryNtp('::1', { port: server.port })));
  t.match(r, { address: '::1', stratum: 2 });
});

t.test('a forged reply (wrong originate) is ignored: the real one after it is taken, or the query times out saying so', async (t) => {
  const forged = (req: Parameters<Answer>[0]) => realReply(req, 3_600_000, { originate: { ...req.transmit, fraction: (req.transmit.fraction ^ 1) >>> 0 } });
  const server = await withServer(t, (req, send) => {
    send(forged(req));
    setTimeout(() => send(realReply(req)), 30);
  });
  const r = answered(t, await settled(t, queryNtp('127.0.0.1', { port: server.port })));
  t.ok(Math.abs(r.offsetMs) < 50, `offset ${r.offsetMs} ms: the forged hour was not believed`);

  const only = await withServer(t, (req, send) => send(forged(req)));
  const e = failed(t, await settled(t, queryNtp('127.0.0.1', { port: only.port, timeoutMs: 300 })), 'timeout');
  t.match(e.message, /^127\.0\.0\.1: no answer within 300 ms; 1 reply ignored, the last: reply's originate timestamp is not our request's/);
});

t.test('a truncated reply is ignored too', async (t) => {
  const server = await withServer(t, (req, send) => {
    send(realReply(req, 7000).subarray(0, 40));
    setTimeout(() => send(realReply(req)), 30);
  });
  const r = answered(t, await settled(t, queryNtp('127.0.0.1', { port: server.port })));
  t.ok(Math.abs(r.offsetMs) < 50);
});

t.test('a reply from another port or another address is never the answer', async (t) => {
  const server = await withServer(t, (req, send) => {
    send(realReply(req, 3_600_000), 'other');
    setTimeout(() => send(realReply(req)), 30);
  });
  const r = answered(t, await settled(t, queryNtp('127.0.0.1', { port: server.port })));
  t.ok(Math.abs(r.offsetMs) < 50, `offset ${r.offsetMs} ms: the other port's hour was not taken`);

  const otherPortOnly = await withServer(t, (req, send) => send(realReply(req), 'other'));
  failed(t, await settled(t, queryNtp('127.0.0.1', { port: otherPortOnly.port, timeoutMs: 300 })), 'timeout');

  // 127.0.0.2 is loopback too on Linux: the same port number, another address.
  const otherAddress = await withServer(t, (req, send) => send(realReply(req), 'other'), '127.0.0.1', '127.0.0.2');
  t.same(otherAddress.otherEnd, { address: '127.0.0.2', family: 'IPv4', port: otherAddress.port });
  failed(t, await settled(t, queryNtp('127.0.0.1', { port: otherAddress.port, timeoutMs: 300 })), 'timeout');
});

t.test("kiss-o'-death: a typed refusal with its code and meaning", async (t) => {
  for (const [code, meaning] of [['RATE', /asked too often/], ['DENY', /access denied/], ['RSTR', /restricted/], ['XYZW', /XYZW$/]] as const) {
    const server = await withServer(t, (req, send) => send(realReply(req, 0, { stratum: 0, leap: 3, refId: Buffer.from(code).readUInt32BE(0) })));
    const e = failed(t, await settled(t, queryNtp('127.0.0.1', { port: server.port })), 'kiss');
    t.equal(e.kiss, code);
    t.match(e.message, new RegExp(`^127\\.0\\.0\\.1:${server.port} refused to answer: kiss-o'-death ${code}`));
    t.match(e.message, meaning);
  }
  const empty = await withServer(t, (req, send) => send(realReply(req, 0, { stratum: 0, refId: 0 })));
  t.match(failed(t, await settled(t, queryNtp('127.0.0.1', { port: empty.port })), 'kiss').message, /\(no code\)/);
});

t.test("the server's own refusals end the query at once, with the server named", async (t) => {
  const cases = [
    [{ leap: 3 }, 'unsynchronised'],
    [{ stratum: 16 }, 'stratum'],
    [{ mode: 3 }, 'not-server'],
    [{ version: 2 }, 'version'],
    [{ transmit: { seconds: 0, fraction: 0 } }, 'no-timestamp'],
  ] as const;
  for (const [over, code] of cases) {
    const server = await withServer(t, (req, send) => send(realReply(req, 0, over)));
    const t0 = performance.now();
    const e = failed(t, await settled(t, queryNtp('127.0.0.1', { port: server.port, timeoutMs: 5000 })), code);
    t.ok(performance.now() - t0 < 2000, 'without waiting for the timeout');
    t.match(e.message, new RegExp(`^127\\.0\\.0\\.1:${server.port}: `));
  }
});

t.test('a server that never answers: timeout after timeoutMs', async (t) => {
  const server = await withServer(t, () => {});
  const t0 = performance.now();
  const e = failed(t, await settled(t, queryNtp('127.0.0.1', { port: server.port, timeoutMs: 400 })), 'timeout');
  const took = performance.now() - t0;
  t.ok(took >= 390 && took < 1500, `${took.toFixed(0)} ms`);
  t.equal(e.message, '127.0.0.1: no answer within 400 ms');
});

t.test('nothing on the port: ICMP port unreachable, at once', async (t) => {
  const port = await freeUdpPort();
  const t0 = performance.now();
  const e = failed(t, await settled(t, queryNtp('127.0.0.1', { port, timeoutMs: 5000 })), 'unreachable');
  t.ok(performance.now() - t0 < 2000);
  t.equal(e.message, `127.0.0.1:${port}: no NTP server there (ICMP port unreachable)`);
});

t.test('a socket error: the kernel refuses to connect to the broadcast address', async (t) => {
  // Linux: EACCES without SO_BROADCAST, reported through connect()'s callback.
  const e = failed(t, await settled(t, queryNtp('255.255.255.255', { timeoutMs: 5000 })), 'socket');
  t.match(e.message, /^255\.255\.255\.255:123: connect EACCES/);
});

t.test('a name that does not resolve', async (t) => {
  // .invalid never resolves (RFC 2606); a generous timeout for slow resolvers.
  const e = failed(t, await settled(t, queryNtp('no-such-host.invalid', { timeoutMs: 30_000 })), 'dns');
  t.match(e.message, /^no-such-host\.invalid: cannot resolve the name \(/);
});

t.test('cancelled by the caller, before or during the query', async (t) => {
  const server = await withServer(t, () => {});
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const t0 = performance.now();
  failed(t, await settled(t, queryNtp('127.0.0.1', { port: server.port, timeoutMs: 5000, signal: ac.signal })), 'aborted');
  t.ok(performance.now() - t0 < 1000);
  failed(t, await settled(t, queryNtp('127.0.0.1', { port: server.port, signal: ac.signal })), 'aborted');
  t.equal(server.requests.length, 1, 'nothing sent when cancelled before');
});

t.test('bad arguments are refused before anything is sent', async (t) => {
  failed(t, await settled(t, queryNtp('')), 'bad-argument');
  t.match(failed(t, await settled(t, queryNtp('127.0.0.1', { port: 0 })), 'bad-argument').message, /0 is not a UDP port/);
  failed(t, await settled(t, queryNtp('127.0.0.1', { port: 70000 })), 'bad-argument');
  failed(t, await settled(t, queryNtp('127.0.0.1', { timeoutMs: 0 })), 'bad-argument');
  failed(t, await settled(t, queryNtp('127.0.0.1', { timeoutMs: NaN })), 'bad-argument');
});

t.test('queryFirst: servers in order, the first answer and the failures before it', async (t) => {
  const server = await withServer(t, (req, send) => send(realReply(req, 1000)));
  const opts = { port: server.port, timeoutMs: 3000 };
  const got = await settled(t, queryFirst(['127.0.0.2', 'no-such-host.invalid', '127.0.0.1', '127.0.0.3'], { ...opts, timeoutMs: 30_000 }));
  if (got instanceof NtpError) throw got;
  t.equal(got.result.server, '127.0.0.1');
  t.ok(Math.abs(got.result.offsetMs - 1000) < 50);
  t.same(got.failures.map((f) => [f.server, f.error.code]), [['127.0.0.2', 'unreachable'], ['no-such-host.invalid', 'dns']]);
  t.equal(server.requests.length, 1, 'the servers after the answer are not asked');

  const all = failed(t, await settled(t, queryFirst(['127.0.0.2', '127.0.0.3'], opts)), 'all-failed');
  t.equal(all.message, `no NTP server answered: 127.0.0.2:${server.port}: no NTP server there (ICMP port unreachable); 127.0.0.3:${server.port}: no NTP server there (ICMP port unreachable)`);
  t.same(all.failures?.map((f) => f.error.code), ['unreachable', 'unreachable']);

  failed(t, await settled(t, queryFirst([], opts)), 'no-servers');
  const ac = new AbortController();
  ac.abort();
  failed(t, await settled(t, queryFirst(['127.0.0.1', '127.0.0.1'], { ...opts, signal: ac.signal })), 'aborted');
  t.equal(server.requests.length, 1, 'a cancel ends the list, not just one server');
});
