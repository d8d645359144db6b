/** RtspClient against scripted servers: the odd answers real cameras give now and then. */
import t from 'tap';
import { RtspClient } from '../../../../firmware/media/rtsp/client.js';
import { fakeServer } from './fake-server.js';

const SDP = 'v=0\r\ns=x\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';

type Overrides = Partial<Record<'OPTIONS' | 'DESCRIBE' | 'SETUP' | 'PLAY' | 'TEARDOWN', (cseq: string, req: string) => string | undefined>>;

/** A minimal camera; each method's answer can be replaced. */
function camera(o: Overrides = {}) {
  return fakeServer((req, cseq) => {
    const method = req.split(' ')[0] as keyof Overrides;
    const custom = o[method];
    if (custom) return custom(cseq, req);
    const h = `CSeq: ${cseq}\r\nSession: 7\r\n`;
    switch (method) {
      case 'OPTIONS':
        return `RTSP/1.0 200 OK\r\n${h}Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n`;
      case 'DESCRIBE':
        return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`;
      case 'SETUP':
        return `RTSP/1.0 200 OK\r\n${h}Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`;
      default:
        return `RTSP/1.0 200 OK\r\n${h}\r\n`;
    }
  });
}

const rtp = (seq: number): Buffer => Buffer.from([0x80, 0xe0, seq >> 8, seq & 0xff, 0, 0, 0, 1, 0, 0, 0, 9, 0x65, 0x88]);
const frame = (ch: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([0x24, ch, data.length >> 8, data.length & 0xff]), data]);

t.test('the camera picks other interleaved channels; RTSP 2.0-style server requests are answered', async (t) => {
  const server = await camera({ SETUP: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: 7;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved=4-5\r\n\r\n` });
  t.teardown(() => server.close());
  const c = new RtspClient({ url: server.url });
  const got: [number, number][] = [];
  const warnings: string[] = [];
  c.on('rtp', (track, p) => got.push([track, p.readUInt16BE(2)]));
  c.on('warning', (e) => warnings.push(e.message));
  c.on('close', () => {});
  await c.start();
  t.match(server.requests.find((r) => r.startsWith('SETUP')), /^SETUP rtsp:\/\/127\.0\.0\.1:\d+\/cam\/track1 RTSP\/1\.0.*Transport: RTP\/AVP\/TCP;unicast;interleaved=0-1/s);
  t.match(server.requests.find((r) => r.startsWith('PLAY')), /^PLAY rtsp:\/\/127\.0\.0\.1:\d+\/cam RTSP\/1\.0.*Session: 7/s, 'aggregate control "*" is the base URL');
  const s = server.sockets[0]!;
  s.write(Buffer.concat([frame(4, rtp(1)), frame(0, rtp(2)), Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 99\r\n\r\n'), frame(4, rtp(3))]));
  await new Promise((r) => setTimeout(r, 200));
  t.same(got, [[0, 1], [0, 3]], 'channel 4 is track 0; channel 0 is nobody');
  t.match(warnings, [/channel 0/]);
  t.ok(server.requests.some((r) => /^RTSP\/1\.0 200 OK\r\nCSeq: 99/.test(r)), 'the server request got a 200 with its CSeq');
  await c.stop();
});

t.test('status and content errors are typed', async (t) => {
  const cases: [Overrides, { name: string; status?: number; message?: string | RegExp }][] = [
    [{ DESCRIBE: (cseq) => `RTSP/1.0 404 Stream Not Found\r\nCSeq: ${cseq}\r\n\r\n` }, { name: 'RtspStatusError', status: 404, message: 'DESCRIBE failed: 404 Stream Not Found' }],
    [{ DESCRIBE: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi` }, { name: 'RtspProtocolError', message: /text\/html, not SDP/ }],
    [{ DESCRIBE: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nhello` }, { name: 'RtspProtocolError', message: /SDP does not start with v=/ }],
    [{ DESCRIBE: (cseq) => `RTSP/1.0 302 Found\r\nCSeq: ${cseq}\r\nLocation: rtsp://127.0.0.1:1/loop\r\n\r\n` }, { name: 'RtspConnectionError', message: /ECONNREFUSED/ }],
    [{ SETUP: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n` }, { name: 'RtspProtocolError', message: /without Session/ }],
    [{ SETUP: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: 1\r\nTransport: RTP/AVP;unicast;client_port=1-2\r\n\r\n` }, { name: 'RtspProtocolError', message: /asked for TCP, the camera answered RTP\/AVP/ }],
    [{ SETUP: (cseq) => `RTSP/1.0 461 Unsupported Transport\r\nCSeq: ${cseq}\r\n\r\n` }, { name: 'RtspStatusError', status: 461 }],
  ];
  for (const [o, expected] of cases) {
    const server = await camera(o);
    t.teardown(() => server.close());
    const c = new RtspClient({ url: server.url });
    let closeErr: unknown;
    c.on('close', (e) => (closeErr = e));
    await t.rejects(c.start(), expected);
    t.match(closeErr, expected, 'the same error closes the client');
  }
});

t.test('a redirect loop ends after maxRedirects', async (t) => {
  const server = await camera({ DESCRIBE: (cseq, req) => `RTSP/1.0 301 Moved\r\nCSeq: ${cseq}\r\nLocation: ${req.split(' ')[1]}/x\r\n\r\n` });
  t.teardown(() => server.close());
  await t.rejects(new RtspClient({ url: server.url, maxRedirects: 3 }).start(), { name: 'RtspProtocolError', message: /more than 3 redirects/ });
  t.equal(server.requests.filter((r) => r.startsWith('DESCRIBE')).length, 4);
});

t.test('Basic-only camera: the retry carries Basic credentials, once', async (t) => {
  let authorized = 0;
  const server = await camera({
    OPTIONS: (cseq, req) => {
      if (/Authorization: Basic YWRtaW46cHc=/.test(req)) {
        authorized++;
        return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`;
      }
      return `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`;
    },
  });
  t.teardown(() => server.close());
  const c = new RtspClient({ url: server.url, username: 'admin', password: 'pw' });
  c.on('close', () => {});
  await c.start();
  t.equal(authorized, 1);
  t.match(server.requests.find((r) => r.startsWith('DESCRIBE')), /Authorization: Basic YWRtaW46cHc=/, 'later requests authorize up front');
  c.close();
  const bad = await camera({ OPTIONS: (cseq) => `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n` });
  t.teardown(() => bad.close());
  await t.rejects(new RtspClient({ url: bad.url, username: 'admin', password: 'pw' }).start(), { name: 'RtspUnauthorized' });
  t.equal(bad.requests.length, 2, 'one retry, no loop');
});

t.test('bad URLs are refused up front', async (t) => {
  t.throws(() => new RtspClient({ url: 'http://cam/' }), { name: 'RtspError', message: /unsupported URL scheme http:/ });
  t.throws(() => new RtspClient({ url: 'not a url' }), { name: 'RtspError', message: 'invalid RTSP URL' });
});
