// An IP camera's snapshot URI as an installer checks it: the picture comes
// back whole when the camera's login is right, and every way it can go wrong
// ends in a SnapshotError that says why. The cameras here are real HTTP
// servers on 127.0.0.1; their Digest check (RFC 7616, MD5, qop=auth) is
// written out below with node:crypto, independently of the firmware's
// Authenticator, and the picture is a real JPEG made by ffmpeg.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fetchJpeg } from '../../../firmware/snapshots/http-jpeg.js';

t.setTimeout(60_000);

const USER = 'admin';
const PASSWORD = 'S3cr3t-Pa55!';
const REALM = 'IP Camera(C1234)';

const JPEG: Buffer = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-f', 'mjpeg', '-'], {
  maxBuffer: 16 * 1024 * 1024,
});

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  /** Every header line as received, names and values. */
  rawHeaders: string[];
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A camera on 127.0.0.1, closed at the end of the test; `seen` lists the requests it got, in order. */
async function camera(t: Test, handler: Handler): Promise<{ base: string; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, rawHeaders: [...req.rawHeaders] });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, port, seen };
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** The parameters of a Digest Authorization header (quoted values unquoted). */
function digestParams(header: string): Record<string, string> | undefined {
  const m = /^Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p = re.exec(m[1]!); p; p = re.exec(m[1]!)) out[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return out;
}

/**
 * A Digest-protected snapshot (MD5, qop="auth"), as RFC 7616 section 3.4.1
 * computes it: HA1 = MD5(user:realm:password), HA2 = MD5(method:uri),
 * response = MD5(HA1:nonce:nc:cnonce:qop:HA2).
 */
function digestCamera(body: Buffer, password = PASSWORD): { handler: Handler; rejected: string[] } {
  const nonces = new Set<string>();
  const opaque = randomBytes(8).toString('hex');
  const rejected: string[] = [];
  const challenge = (res: ServerResponse): void => {
    const nonce = randomBytes(16).toString('hex');
    nonces.add(nonce);
    res.writeHead(401, { 'www-authenticate': `Digest realm="${REALM}", qop="auth", nonce="${nonce}", opaque="${opaque}", algorithm=MD5`, 'content-type': 'text/html' });
    res.end('<html><body>401 Unauthorized</body></html>');
  };
  const handler: Handler = (req, res) => {
    const header = req.headers.authorization;
    if (!header) return challenge(res);
    const p = digestParams(header);
    const why =
      !p ? 'not Digest'
      : p['username'] !== USER ? 'user'
      : p['realm'] !== REALM ? 'realm'
      : !nonces.has(p['nonce'] ?? '') ? 'nonce'
      : p['opaque'] !== opaque ? 'opaque'
      : p['uri'] !== req.url ? 'uri'
      : p['qop'] !== 'auth' ? 'qop'
      : !/^[0-9a-f]{8}$/.test(p['nc'] ?? '') ? 'nc'
      : !p['cnonce'] ? 'cnonce'
      : (p['algorithm'] ?? 'MD5').toUpperCase() !== 'MD5' ? 'algorithm'
      : p['response'] !== md5(`${md5(`${USER}:${REALM}:${password}`)}:${p['nonce']}:${p['nc']}:${p['cnonce']}:auth:${md5(`${req.method}:${p['uri']}`)}`) ? 'response'
      : undefined;
    if (why) {
      rejected.push(why);
      return challenge(res);
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
    res.end(body);
  };
  return { handler, rejected };
}

t.test('the ffmpeg picture is a real JPEG', async (t) => {
  t.ok(JPEG.length > 500, `ffmpeg made ${JPEG.length} bytes`);
  t.same([...JPEG.subarray(0, 3)], [0xff, 0xd8, 0xff], 'starts with SOI');
  t.same([...JPEG.subarray(-2)], [0xff, 0xd9], 'ends with EOI');
});

t.test('Digest-protected snapshot with the right login', async (t) => {
  const cam = digestCamera(JPEG);
  const { base, seen } = await camera(t, cam.handler);
  const got = await fetchJpeg(`${base}/onvif/snapshot?channel=1&size=full`, { username: USER, password: PASSWORD });
  t.ok(Buffer.isBuffer(got), 'a Buffer');
  t.ok(got.equals(JPEG), 'the bytes are the served JPEG');
  t.equal(seen.length, 2, 'two requests in all');
  t.equal(seen[0]?.authorization, undefined, 'the first carries no Authorization');
  t.match(seen[1]?.authorization, /^Digest /, 'the second answers the Digest challenge');
  t.same(cam.rejected, [], 'the camera refused no Authorization');
  t.same(
    seen.map((s) => [s.method, s.url]),
    [
      ['GET', '/onvif/snapshot?channel=1&size=full'],
      ['GET', '/onvif/snapshot?channel=1&size=full'],
    ],
    'both GET the snapshot path with its query',
  );
  const p = digestParams(seen[1]!.authorization!)!;
  t.equal(p['uri'], '/onvif/snapshot?channel=1&size=full', 'the digest uri is the request target');
  t.equal(p['nc'], '00000001', 'first use of the nonce');
  for (const s of seen) {
    const headers = s.rawHeaders.join('\n');
    t.notOk(headers.includes(PASSWORD), 'no header holds the password in clear');
    t.notOk(headers.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'nor as Basic credentials');
  }
});

t.test('Basic-protected snapshot with the right login', async (t) => {
  const expected = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`, 'utf8').toString('base64');
  const { base, seen } = await camera(t, (req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(JPEG);
  });
  const got = await fetchJpeg(`${base}/snap.jpg`, { username: USER, password: PASSWORD });
  t.ok(got.equals(JPEG), 'the bytes are the served JPEG');
  t.same(
    seen.map((s) => s.authorization),
    [undefined, expected],
    'no credentials before the challenge, then Basic',
  );
});

t.test('a wrong password is reported as such', async (t) => {
  const cam = digestCamera(JPEG);
  const { base, seen } = await camera(t, cam.handler);
  await t.rejects(fetchJpeg(`${base}/snap.jpg`, { username: USER, password: 'not-the-password' }), {
    name: 'SnapshotError',
    message: /wrong user name or password/,
  });
  t.equal(seen.length, 2, 'one try with the login, no more');
  t.same(cam.rejected, ['response'], 'the camera refused the digest response itself');
});

t.test('credentials written in the URL are not sent as they are', async (t) => {
  const cam = digestCamera(JPEG);
  const { port, seen } = await camera(t, cam.handler);
  const url = `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/snap.jpg`;

  // Without separate credentials: the URL's are not used, the camera's challenge goes unanswered.
  await t.rejects(fetchJpeg(url, undefined), { name: 'SnapshotError', message: /no credentials are configured/ });
  t.equal(seen.length, 1, 'one request only');
  t.equal(seen[0]?.url, '/snap.jpg', 'the request line holds the path only');
  t.equal(seen[0]?.authorization, undefined, 'no Basic login made up from the URL');

  // With them given separately it works, the URL's copy still not sent.
  const got = await fetchJpeg(url, { username: USER, password: PASSWORD });
  t.ok(got.equals(JPEG), 'the bytes are the served JPEG');
  t.equal(seen.length, 3, 'challenge, then the answer');
  t.equal(seen[1]?.authorization, undefined, 'no credentials before the challenge');
  t.match(seen[2]?.authorization, /^Digest /, 'then Digest');
  for (const s of seen) {
    t.equal(s.url, '/snap.jpg', 'request target is the bare path');
    t.notOk(s.url.includes(PASSWORD) || s.url.includes(encodeURIComponent(PASSWORD)), 'no password in the request line');
    const headers = s.rawHeaders.join('\n');
    t.notOk(headers.includes(PASSWORD) || headers.includes(encodeURIComponent(PASSWORD)), 'no password in the headers');
    t.notOk(headers.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'nor as Basic credentials');
  }
});

t.test('HTTP 404', async (t) => {
  const { base, seen } = await camera(t, (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await t.rejects(fetchJpeg(`${base}/nope.jpg`, { username: USER, password: PASSWORD }), { name: 'SnapshotError', message: /HTTP 404/ });
  t.equal(seen.length, 1, 'asked once');
});

t.test('an HTML page where the picture should be', async (t) => {
  const { base } = await camera(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Please log in</body></html>');
  });
  await t.rejects(fetchJpeg(`${base}/snap.jpg`, undefined), { name: 'SnapshotError', message: /not a JPEG/ });
  await t.rejects(fetchJpeg(`${base}/snap.jpg`, undefined), { message: /text\/html/ }, 'the message names the content type');
});

t.test('an answer bigger than maxBytes is refused', async (t) => {
  const big = Buffer.alloc(5000, 0x55);
  JPEG.copy(big, 0, 0, 4); // FF D8 FF E0: JPEG-looking, so only the size can refuse it
  const { base } = await camera(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': big.length });
    if (req.url !== '/slow.jpg') return void res.end(big); // all at once: the client has it whole before it looks
    // In pieces: the client refuses while the answer is still coming.
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (i >= big.length) return void res.end();
      res.write(big.subarray(i, (i += 500)));
      setTimeout(next, 2);
    };
    next();
  });
  await t.rejects(fetchJpeg(`${base}/snap.jpg`, undefined, { maxBytes: 1000 }), { name: 'SnapshotError', message: /more than 1000 bytes/ });
  await t.rejects(fetchJpeg(`${base}/slow.jpg`, undefined, { maxBytes: 1000 }), { name: 'SnapshotError', message: /more than 1000 bytes/ }, 'refused while still arriving too');
  // The same answer under the default bound is fine: it was the size that was refused.
  const got = await fetchJpeg(`${base}/snap.jpg`, undefined);
  t.equal(got.length, 5000, 'accepted under the default bound');
});

t.test('a camera that accepts the connection and never answers', async (t) => {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.resume(); // read the request, say nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  const started = performance.now();
  await t.rejects(fetchJpeg(`http://127.0.0.1:${port}/snap.jpg`, undefined, { timeoutMs: 300 }), {
    name: 'SnapshotError',
    message: /no answer within 300 ms/,
  });
  const elapsed = performance.now() - started;
  t.equal(connections, 1, 'the camera was reached');
  t.ok(elapsed >= 250, `gave up after the timeout, not before (${Math.round(elapsed)} ms)`);
  t.ok(elapsed < 5000, `did not hang (${Math.round(elapsed)} ms)`);
});

t.test('an RTSP URL is not a snapshot URI', async (t) => {
  await t.rejects(fetchJpeg(`rtsp://127.0.0.1:554/Streaming/Channels/101`, { username: USER, password: PASSWORD }), {
    name: 'SnapshotError',
    message: /not an HTTP snapshot URI/,
  });
});

t.test('a camera that trickles its answer is cut at the deadline', async (t) => {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.write(Buffer.from([0xff, 0xd8, 0xff]));
    const tick = setInterval(() => res.write(Buffer.from([0])), 50);
    res.on('close', () => clearInterval(tick));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const { port } = server.address() as AddressInfo;
  await t.rejects(fetchJpeg(`http://127.0.0.1:${port}/snap.jpg`, undefined, { timeoutMs: 400 }), { name: 'SnapshotError', message: /no answer within 400 ms/ });
});

t.test('a camera that is not there is a SnapshotError, not a raw socket error', async (t) => {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.rejects(fetchJpeg(`http://127.0.0.1:${port}/snap.jpg`, undefined), { name: 'SnapshotError', message: /did not answer: .*ECONNREFUSED/ });
});
