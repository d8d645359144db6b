/**
 * The RTSP server over real sockets, with a synthetic stream made of real
 * encoder output: the protocol answers (2xx/4xx/5xx), Digest, limits,
 * slow clients, timeouts, and fuzzed input. ffmpeg as a client is in
 * test/firmware/restream/.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../../firmware/core/clock.js';
import { createDepacketizer } from '../../../../firmware/media/rtp/factory.js';
import { parseRtp } from '../../../../firmware/media/rtp/packet.js';
import { RtspParser } from '../../../../firmware/media/rtsp/parser.js';
import { parseSdp } from '../../../../firmware/media/rtsp/sdp.js';
import { digestHa1, DigestGuard } from '../../../../firmware/media/rtsp/server-auth.js';
import { parseRequestTarget, RtspServer, type RtspServerOptions, type ServedStream } from '../../../../firmware/media/rtsp/server.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';
import { RawClient } from '../../restream/helpers.js';
import { encodeAac, encodeVideo } from '../../restream/media.js';

const dir = mkdtempSync(join(tmpdir(), 'rtsp-server-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
/** Cases for the pure properties; FUZZ_RUNS=100000 for a benchmark-style run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const video = await encodeVideo(dir, 'h264', 2);
const audio = await encodeAac(dir, 2);

/** A live stream fed by the test: push() sends frames to every subscriber. */
class TestStream implements ServedStream {
  listeners = new Set<Parameters<ServedStream['subscribe']>[0]>();
  constructor(public infos: StreamInfo[]) {}
  tracks(): StreamInfo[] {
    return this.infos;
  }
  subscribe(l: Parameters<ServedStream['subscribe']>[0]): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
  push(kind: 'video' | 'audio', info: StreamInfo, f: Frame): void {
    for (const l of this.listeners) l.frame(kind, info, f);
  }
  end(): void {
    for (const l of [...this.listeners]) l.end();
  }
}

async function server(t: Test, over: Partial<RtspServerOptions> = {}, stream = new TestStream([video.info, audio.info])) {
  const srv = new RtspServer({
    port: 0, host: '127.0.0.1', clock: systemClock,
    resolve: (p) => (p === 'cam1/main' ? stream : p === 'empty/main' ? new TestStream([]) : undefined),
    auth: { realm: 'dvr', ha1: (u, r) => (u === 'viewer' ? digestHa1(u, r, 'Right-pass-1') : u === 'nobody' ? digestHa1(u, r, 'Other-pass-1') : null), authorize: (u) => u === 'viewer' },
    ...over,
  });
  await srv.start();
  t.teardown(() => srv.stop());
  return { srv, stream, url: `rtsp://127.0.0.1:${srv.port}/cam1/main` };
}

/** Raw bytes in, everything the server answered out (until it closes or goes quiet). */
function exchange(port: number, bytes: string | Buffer, quietMs = 300): Promise<{ text: string; closed: boolean }> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      res({ text, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), quietMs);
    };
    s.on('data', (d) => {
      text += d.toString('latin1');
      arm();
    });
    s.on('close', () => done(true));
    s.on('error', () => {});
    s.write(bytes);
    arm();
  });
}

t.test('protocol answers', async (t) => {
  const { srv, url } = await server(t);
  const c = new RawClient(srv.port);
  t.teardown(() => c.socket.destroy());
  const opt = await c.request('OPTIONS', url);
  t.equal(opt.status, 200, 'OPTIONS needs no credentials');
  t.match(opt.headers.get('public'), /DESCRIBE.*SETUP.*PLAY.*TEARDOWN.*GET_PARAMETER/, 'and lists the methods');
  const anon = await c.request('DESCRIBE', url);
  t.equal(anon.status, 401, 'DESCRIBE without credentials: 401');
  t.match(anon.headers.get('www-authenticate'), /^Digest realm="dvr", nonce="[0-9a-f]{44}", algorithm=MD5, qop="auth"$/, 'with a Digest challenge, no Basic');
  t.equal((await c.request('PAUSE', url)).status, 405, 'PAUSE on live: 405');
  t.equal((await c.request('FLY', url)).status, 501, 'an unknown method: 501');
  t.equal((await c.request('PLAY', url)).status, 401, 'PLAY unauthenticated: 401 before anything else');

  const wrong = new RawClient(srv.port, 'viewer', 'Wrong-pass-1');
  t.teardown(() => wrong.socket.destroy());
  t.equal((await wrong.request('DESCRIBE', url)).status, 401, 'a wrong password: 401');
  t.equal(wrong.interleavedBytes, 0, 'and nothing streamed');
  const other = new RawClient(srv.port, 'nobody', 'Other-pass-1');
  t.teardown(() => other.socket.destroy());
  t.equal((await other.request('DESCRIBE', url)).status, 403, 'a real user without the right on the path: 403');

  const v = new RawClient(srv.port, 'viewer', 'Right-pass-1');
  t.teardown(() => v.socket.destroy());
  t.equal((await v.request('DESCRIBE', url.replace('cam1', 'cam9'))).status, 404, 'an unknown path: 404 (after authentication, so paths do not leak)');
  t.equal((await v.request('DESCRIBE', url.replace('cam1', 'empty'))).status, 503, 'a stream not described yet: 503');
  const d = await v.request('DESCRIBE', url);
  t.equal(d.status, 200, 'DESCRIBE with the right password');
  const sdp = parseSdp(Buffer.from(d.body).toString());
  t.same(sdp.media.map((m) => m.type), ['video', 'audio'], 'SDP has video and audio');
  t.match(sdp.media[0]!.fmtp.get(96)?.['sprop-parameter-sets'], /^[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+$/, 'and the parameter sets');
  t.equal(d.headers.get('content-base'), `${url}/`, 'Content-Base for the track controls');
  t.equal((await v.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=5000-5001' })).status, 461, 'UDP is not offered: 461');
  t.equal((await v.request('SETUP', `${url}/trackID=0`, { Transport: 'garbage' })).status, 461, 'a garbage Transport: 461');
  t.equal((await v.request('SETUP', `${url}/trackID=7`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).status, 404, 'a track that does not exist: 404');
  t.equal((await v.request('PLAY', url)).status, 454, 'PLAY before SETUP: 454');
  const s = await v.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  t.equal(s.status, 200, 'SETUP over TCP');
  t.match(s.headers.get('transport'), /^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}$/, 'interleaved as asked');
  t.match(s.headers.get('session'), /^[0-9a-f]{16};timeout=60$/, 'a session with its timeout');
  t.equal((await v.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).status, 461, 'channels already taken: 461');
  t.equal((await v.request('SETUP', `${url.replace('cam1', 'cam9')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 404, 'another path in the session: 404 as it does not exist');
  t.equal((await v.request('GET_PARAMETER', url)).status, 200, 'GET_PARAMETER keep-alive');
  const sid = v.session;
  v.session = 'ffffffffffffffff';
  t.equal((await v.request('PLAY', url)).status, 454, 'a wrong session id: 454');
  v.session = sid;
  const p = await v.request('PLAY', url);
  t.equal(p.status, 200, 'PLAY');
  t.match(p.headers.get('rtp-info'), /^url=rtsp:\/\/127\.0\.0\.1:\d+\/cam1\/main\/trackID=0;seq=\d+;rtptime=\d+$/, 'RTP-Info for the set-up track');
  t.equal((await v.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3' })).status, 455, 'SETUP while playing: 455');
  t.equal((await v.request('TEARDOWN', url)).status, 200, 'TEARDOWN');
});

t.test('what a client receives: starts at a keyframe with parameter sets, decodes back to the source frames', async (t) => {
  const { srv, stream, url } = await server(t);
  const c = new RawClient(srv.port, 'viewer', 'Right-pass-1');
  t.teardown(() => c.socket.destroy());
  const packets: { ch: number; data: Uint8Array }[] = [];
  c.socket.on('data', () => {});
  const parser = new RtspParser();
  c.socket.on('data', (d) => {
    for (const it of parser.push(d)) if (it.type === 'interleaved') packets.push({ ch: it.channel, data: it.data });
  });
  t.equal((await c.play(url)).status, 200, 'plays video and audio');
  // Join mid-GOP: frames 10.. of the first GOP must be skipped, the second GOP (frame 25) starts the client.
  for (let i = 10; i < 50; i++) {
    stream.push('video', video.info, video.frames[i]!);
    stream.push('audio', audio.info, audio.frames[i]!);
  }
  await new Promise((r) => setTimeout(r, 300));
  const dep = createDepacketizer({ payloadType: 96, encoding: 'H264', clockRate: 90000 }); // no sprop: parameter sets must come in-band
  const units = packets.filter((p) => p.ch === 0).flatMap((p) => dep.push(parseRtp(p.data)));
  t.equal(units.length, 25, 'frames from the next keyframe on');
  t.ok(units[0]!.keyframe, 'the first is a keyframe');
  t.ok(units.every((u, i) => Buffer.compare(u.data, video.frames[25 + i]!.data) === 0), 'byte for byte the source frames');
  t.ok(packets.some((p) => p.ch === 1 && p.data[1] === 200), 'sender reports on the RTCP channel');
  t.ok(packets.filter((p) => p.ch === 2).length >= 30, 'audio flows');
  stream.push('video', { ...video.info, codec: 'h265' }, video.frames[1]!);
  await c.closed();
  t.pass('a codec change ends the session (the client must DESCRIBE again)');
});

t.test('a client that stops reading is dropped once its backlog stays over the limit; others keep going', async (t) => {
  const { srv, stream, url } = await server(t, { maxBacklogBytes: 256 << 10, dropAfterMs: 1000 });
  const slow = new RawClient(srv.port, 'viewer', 'Right-pass-1');
  const good = new RawClient(srv.port, 'viewer', 'Right-pass-1');
  t.teardown(() => (slow.socket.destroy(), good.socket.destroy()));
  t.equal((await slow.play(url)).status, 200);
  t.equal((await good.play(url)).status, 200);
  slow.socket.pause();
  // 100 kB frames at 100 fps, a keyframe every 10: 10 MB/s, enough to fill the kernel's buffers quickly.
  const frame = (i: number): Frame => {
    const src = video.frames[i % 10 === 0 ? 0 : 1]!;
    // The real picture plus a 100 kB filler NAL unit (type 12), which is packetized like any other.
    const filler = new Uint8Array(100_000).fill(0xff);
    filler[0] = 0x0c;
    const data = Buffer.concat([src.data, Buffer.from([0x00, 0x01, 0x86, 0xa0]), filler]);
    return { time: src.time + i * 10_000, keyframe: i % 10 === 0, data };
  };
  const start = Date.now();
  let pushed = 0;
  while (srv.stats().dropped === 0 && Date.now() - start < 30_000) {
    stream.push('video', video.info, frame(pushed++));
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(srv.stats().dropped, 1, `the stuck client was dropped (after ${pushed} frames, ${((Date.now() - start) / 1000).toFixed(1)} s)`);
  await new Promise((r) => setTimeout(r, 300));
  t.ok(good.interleavedBytes > pushed * 100_000 * 0.8, `the reading client got (nearly) everything meanwhile (${(good.interleavedBytes / 1e6).toFixed(1)} of ${(pushed / 10).toFixed(1)} MB)`);
  t.equal(srv.stats().playing, 1, 'and still plays');
});

t.test('RTP over UDP: to the client ports of the RTSP peer only, RTCP keeps the session alive', async (t) => {
  const { srv, stream, url } = await server(t, { udpPort: 0, sessionTimeoutSec: 1 });
  const rtp = createSocket('udp4');
  const rtcp = createSocket('udp4');
  t.teardown(() => (rtp.close(), rtcp.close()));
  await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', () => r()));
  const got: Buffer[] = [];
  const reports: Buffer[] = [];
  rtp.on('message', (m) => got.push(m));
  rtcp.on('message', (m) => reports.push(m));
  const c = new RawClient(srv.port, 'viewer', 'Right-pass-1');
  t.teardown(() => c.socket.destroy());
  t.equal((await c.request('DESCRIBE', url)).status, 200);
  const [p1, p2] = [rtp.address().port, rtcp.address().port];
  const s = await c.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${p1}-${p2};destination=10.9.9.9` });
  t.equal(s.status, 200, 'SETUP over UDP');
  const m = /^RTP\/AVP;unicast;client_port=(\d+)-(\d+);server_port=(\d+)-(\d+);ssrc=[0-9A-F]{8}$/.exec(s.headers.get('transport') ?? '');
  t.ok(m && Number(m[1]) === p1 && Number(m[4]) === Number(m[3]) + 1, `Transport names both port pairs (${s.headers.get('transport')})`);
  t.equal((await c.request('PLAY', url)).status, 200, 'PLAY');
  for (let i = 0; i < 30; i++) stream.push('video', video.info, video.frames[i]!);
  const keepAlive = setInterval(() => rtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]), Number(m![4]), '127.0.0.1'), 200);
  t.teardown(() => clearInterval(keepAlive));
  await new Promise((r) => setTimeout(r, 1800));
  const dep = createDepacketizer({ payloadType: 96, encoding: 'H264', clockRate: 90000 });
  const units = got.flatMap((b) => dep.push(parseRtp(b)));
  t.equal(units.length, 30, 'every frame arrived on the client RTP port (loopback does not lose)');
  t.ok(reports.some((b) => b[1] === 200), 'sender reports on the client RTCP port');
  t.notOk(c.socket.destroyed, 'receiver reports to our RTCP port kept the session past its 1 s timeout');
  clearInterval(keepAlive);
  await c.closed();
  t.pass('without them it times out');
});

t.test('limits: connections, idle timeout, request floods, garbage', async (t) => {
  const { srv } = await server(t, { maxConnections: 2, sessionTimeoutSec: 0.4 });
  const a = connect(srv.port, '127.0.0.1');
  const b = connect(srv.port, '127.0.0.1');
  t.teardown(() => (a.destroy(), b.destroy()));
  await new Promise((r) => setTimeout(r, 100));
  const third = await exchange(srv.port, '');
  t.match(third.text, /^RTSP\/1\.0 503 /, 'over the connection limit: 503');
  await Promise.all([new Promise((r) => a.once('close', r)), new Promise((r) => b.once('close', r))]);
  t.pass('idle connections are closed after the session timeout');
  const garbage = await exchange(srv.port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
  t.match(garbage.text, /^RTSP\/1\.0 400 Bad Request/, 'binary garbage (a TLS hello): 400');
  t.ok(garbage.closed, 'and the connection is closed');
  const v2 = await exchange(srv.port, 'OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n');
  t.match(v2.text, /^RTSP\/1\.0 505 /, 'RTSP/2.0: 505');
  const nocseq = await exchange(srv.port, 'OPTIONS * RTSP/1.0\r\n\r\n');
  t.match(nocseq.text, /^RTSP\/1\.0 400 /, 'no CSeq: 400');
  const huge = await exchange(srv.port, `DESCRIBE rtsp://x/${'a'.repeat(10_000)} RTSP/1.0\r\n`);
  t.match(huge.text, /^RTSP\/1\.0 400 /, 'an overlong request line: 400');
  const flood = await exchange(srv.port, 'GET_PARAMETER rtsp://127.0.0.1/cam1/main RTSP/1.0\r\nCSeq: 1\r\n\r\n'.repeat(50));
  t.ok(flood.closed, 'fifty pipelined requests at once: the connection is closed, not queued without bound');
  t.equal(srv.stats().connections, 0, 'nothing left open');
});

t.test('the stream ending closes its clients', async (t) => {
  const { srv, stream, url } = await server(t, { auth: undefined });
  const c = new RawClient(srv.port);
  t.teardown(() => c.socket.destroy());
  t.equal((await c.play(url)).status, 200, 'no auth configured: plays without credentials');
  stream.end();
  await c.closed();
  t.equal(srv.stats().connections, 0, 'client closed');
});

t.test('Digest guard: stale nonces, replays on another path, malformed headers', async (t) => {
  let now = 1_700_000_000_000;
  const g = new DigestGuard('dvr', () => now, 60_000, new Uint8Array(32));
  const lookup = { ha1: (u: string, r: string) => (u === 'viewer' ? digestHa1(u, r, 'pw') : null) };
  const nonce = /nonce="([0-9a-f]+)"/.exec(g.challenge())![1]!;
  const { createHash } = await import('node:crypto');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const header = (uri: string, user = 'viewer', pw = 'pw', method = 'DESCRIBE') =>
    `Digest username="${user}", realm="dvr", nonce="${nonce}", uri="${uri}", response="${md5(`${md5(`${user}:dvr:${pw}`)}:${nonce}:${md5(`${method}:${uri}`)}`)}"`;
  const uri = 'rtsp://h/cam1/main';
  t.same(await g.verify('DESCRIBE', uri, header(uri), lookup), { ok: true, username: 'viewer' }, 'RFC 2069 style (no qop) accepted');
  t.match(await g.verify('DESCRIBE', 'rtsp://h/cam2/main', header(uri), lookup), { ok: false, reason: 'uri mismatch' }, 'not for another path');
  t.match(await g.verify('DESCRIBE', uri, header(uri, 'ghost'), lookup), { ok: false, reason: 'wrong credentials' }, 'an unknown user');
  t.match(await g.verify('DESCRIBE', uri, header(uri).replace('realm="dvr"', 'realm="x"'), lookup), { ok: false, reason: 'wrong realm' });
  t.match(await g.verify('DESCRIBE', uri, header(uri) + ', algorithm=SHA-256', lookup), { ok: false, reason: 'unsupported algorithm' });
  t.match(await g.verify('DESCRIBE', uri, header(uri) + ', qop=auth-int', lookup), { ok: false, reason: 'bad qop' });
  t.match(await g.verify('DESCRIBE', uri, 'Basic dmlld2VyOnB3', lookup), { ok: false, reason: 'not Digest' }, 'Basic is not accepted');
  t.match(await g.verify('DESCRIBE', uri, header(uri).replace(nonce, 'a'.repeat(44)), lookup), { ok: false, reason: 'unknown nonce' }, 'a forged nonce');
  now += 120_000;
  t.match(await g.verify('DESCRIBE', uri, header(uri), lookup), { ok: false, stale: true }, 'an expired nonce with the right password: stale, retry');
  t.match(g.challenge(true), /stale=TRUE/, 'the challenge says so');
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 300 }), fc.string({ maxLength: 100 }), async (h, u) => {
      const r = await g.verify('DESCRIBE', u, h, lookup);
      return r.ok === false;
    }),
    { numRuns: RUNS },
  );
});

t.test('fuzz: request targets and whole requests over a socket', async (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      const r = parseRequestTarget(s);
      return r === null || (!/[\0-\x1f]/.test(r.path) && r.base.startsWith('rtsp://'));
    }),
    { numRuns: RUNS },
  );
  t.same(parseRequestTarget('rtsp://h:554/cam1/main/trackID=1'), { path: 'cam1/main', track: 1, base: 'rtsp://h:554/cam1/main' });
  t.equal(parseRequestTarget('rtsp://h/%ZZ'), null, 'bad percent-encoding');
  const { srv } = await server(t);
  const line = fc.oneof(
    fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN', 'GET_PARAMETER', 'PAUSE', 'X'),
  );
  await fc.assert(
    fc.asyncProperty(
      line,
      fc.oneof(fc.constant(`rtsp://127.0.0.1:${srv.port}/cam1/main`), fc.string({ maxLength: 60 })),
      fc.array(fc.tuple(fc.constantFrom('CSeq', 'Session', 'Transport', 'Authorization', 'Content-Length', 'X'), fc.string({ maxLength: 60 })), { maxLength: 5 }),
      fc.uint8Array({ maxLength: 64 }),
      async (method, uri, headers, tail) => {
        const req = Buffer.concat([Buffer.from(`${method} ${uri} RTSP/1.0\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'), tail]);
        const r = await exchange(srv.port, req, 150);
        // Every answer is a well-formed RTSP response (or none, if the bytes were not yet a whole request).
        return r.text === '' || /^RTSP\/1\.0 \d{3} /.test(r.text);
      },
    ),
    { numRuns: 60 },
  );
  const c = await exchange(srv.port, 'OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n');
  t.match(c.text, /^RTSP\/1\.0 200 OK\r\nCSeq: 9\r\n/, 'the server is still up and answering');
});
