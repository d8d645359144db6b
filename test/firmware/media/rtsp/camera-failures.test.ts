/**
 * What goes wrong with real cameras: wrong password, the camera dying
 * mid-stream, redirects, UDP blocked on the way, junk on the connection,
 * a camera that stops answering.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { RtspClient } from '../../../../firmware/media/rtsp/client.js';
import { RtspSource } from '../../../../firmware/media/rtsp/source.js';
import { startCamera, type Camera } from './camera.js';
import { fakeServer, listen } from './fake-server.js';

/** Complete units (interleaved frames, messages) at the start of buf, and the rest; independent of the parser under test. */
function units(buf: Buffer): [Buffer[], Buffer] {
  const out: Buffer[] = [];
  for (;;) {
    let len = 0;
    if (buf[0] === 0x24 && buf.length >= 4) len = 4 + buf.readUInt16BE(2);
    else {
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) len = end + 4 + Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
    }
    if (len === 0 || buf.length < len) return [out, buf];
    out.push(buf.subarray(0, len));
    buf = buf.subarray(len);
  }
}

/**
 * A TCP relay to the camera that can rewrite requests and inject bytes
 * toward the client, between whole frames so the injection cannot split one.
 */
async function proxy(cam: Camera, rewrite: (req: string) => string = (r) => r): Promise<{ url: string; inject: Buffer[]; close(): void }> {
  const camUrl = new URL(cam.url);
  const inject: Buffer[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(camUrl.port), camUrl.hostname);
    client.on('data', (d) => upstream.write(rewrite(d.toString('latin1')), 'latin1'));
    let pending: Buffer = Buffer.alloc(0);
    upstream.on('data', (d) => {
      const [whole, rest] = units(Buffer.concat([pending, d]));
      pending = rest;
      for (const u of whole) {
        client.write(u);
        if (u[0] === 0x24) for (const x of inject.splice(0)) client.write(x);
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const port = await listen(server);
  return { url: `rtsp://127.0.0.1:${port}${camUrl.pathname}`, inject, close: () => server.close() };
}

t.test('digest camera: wrong password and no credentials are RtspUnauthorized', async (t) => {
  const cam = await startCamera({ user: 'admin', password: 'right' });
  t.teardown(() => cam.stop());
  const wrong = new RtspClient({ url: cam.url.replace('rtsp://', 'rtsp://admin:wrong@') });
  await t.rejects(wrong.start(), { name: 'RtspUnauthorized', message: /rejected the credentials/ });
  const none = new RtspClient({ url: cam.url });
  await t.rejects(none.start(), { name: 'RtspUnauthorized', message: /no credentials/ });
  const right = new RtspClient({ url: cam.url.replace('rtsp://', 'rtsp://admin:right@') });
  right.on('close', () => {});
  await right.start();
  t.equal(right.currentUrl, cam.url, 'credentials are not part of the request URL');
  await right.stop();
});

for (const transport of ['tcp', 'udp'] as const) {
  t.test(`camera killed mid-stream (${transport}): a clear close error within the timeout`, async (t) => {
    const cam = await startCamera();
    t.teardown(() => cam.stop());
    const src = new RtspSource({ url: cam.url, transport, mediaTimeoutMs: 3000 });
    let frames = 0;
    src.on('frame', () => frames++);
    const closed = new Promise<{ err: unknown; at: number }>((res) => src.on('close', (err) => res({ err, at: Date.now() })));
    await src.start();
    await new Promise((r) => setTimeout(r, 1000));
    t.ok(frames > 0, `frames flowed: ${frames}`);
    const killedAt = Date.now();
    cam.kill();
    const { err, at } = await closed;
    t.match(err, { name: /^Rtsp(ConnectionError|Timeout)$/, message: /closed the connection|no media/ });
    t.ok(at - killedAt < 4000, `closed ${at - killedAt} ms after the kill`);
  });
}

t.test('DESCRIBE follows a redirect to the camera', async (t) => {
  const cam = await startCamera();
  t.teardown(() => cam.stop());
  const redirector = await fakeServer((req, cseq) =>
    req.startsWith('OPTIONS') ? `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n` : `RTSP/1.0 302 Moved\r\nCSeq: ${cseq}\r\nLocation: ${cam.url}\r\n\r\n`,
  );
  t.teardown(() => redirector.close());
  const src = new RtspSource({ url: redirector.url });
  let frames = 0;
  src.on('frame', () => frames++);
  await src.start();
  await new Promise((r) => setTimeout(r, 800));
  t.equal(src.client.currentUrl, cam.url);
  t.ok(frames > 0, `frames from the camera: ${frames}`);
  await src.stop();
});

t.test('UDP blocked on the way: falls back to TCP interleaved', async (t) => {
  const cam = await startCamera();
  t.teardown(() => cam.stop());
  // The camera's datagrams go to ports nobody reads, as behind a NAT or firewall.
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sink.close());
  const dead = sink.address().port;
  const p = await proxy(cam, (r) => r.replace(/client_port=\d+-\d+/, `client_port=${dead}-${dead}`));
  t.teardown(() => p.close());
  const src = new RtspSource({ url: p.url, transport: 'udp', udpTimeoutMs: 1000 });
  const warnings: string[] = [];
  src.on('warning', (e) => warnings.push(e.message));
  let frames = 0;
  src.on('frame', () => frames++);
  await src.start();
  t.equal(src.client.transport, 'tcp');
  t.match(warnings, [/no UDP packet within 1000 ms, switching to TCP/]);
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(frames > 10, `frames over TCP: ${frames}`);
  await src.stop();
});

t.test('UDP with loss and reordering on the way: frames go on, loss is counted and reported', async (t) => {
  const cam = await startCamera();
  t.teardown(() => cam.stop());
  // A relay between camera and client that drops every 40th RTP packet and swaps every 7th with the next.
  const relayRtp = createSocket('udp4');
  const relayRtcp = createSocket('udp4');
  await Promise.all([relayRtp, relayRtcp].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  t.teardown(() => {
    relayRtp.close();
    relayRtcp.close();
  });
  let clientPorts: [number, number] | undefined;
  let n = 0;
  let held: Buffer | undefined;
  relayRtp.on('message', (m) => {
    if (!clientPorts) return;
    n++;
    if (n % 40 === 0) return;
    if (n % 7 === 0 && !held) {
      held = m;
      return;
    }
    relayRtp.send(m, clientPorts[0], '127.0.0.1');
    if (held) relayRtp.send(held, clientPorts[0], '127.0.0.1');
    held = undefined;
  });
  relayRtcp.on('message', (m) => clientPorts && relayRtcp.send(m, clientPorts[1], '127.0.0.1'));
  const p = await proxy(cam, (r) =>
    r.replace(/client_port=(\d+)-(\d+)/, (_all, a: string, b: string) => {
      clientPorts = [Number(a), Number(b)];
      return `client_port=${relayRtp.address().port}-${relayRtcp.address().port}`;
    }),
  );
  t.teardown(() => p.close());
  const src = new RtspSource({ url: p.url, transport: 'udp', reportIntervalMs: 1000 });
  const frames: boolean[] = [];
  src.on('frame', (_t, f) => frames.push(f.keyframe));
  await src.start();
  t.equal(src.client.transport, 'udp');
  await new Promise((r) => setTimeout(r, 3000));
  const h = src.health()[0]!.health;
  await src.stop();
  t.ok(frames.length > 40, `frames kept coming: ${frames.length}`);
  t.ok(h.lostPackets > 0 && h.lostPackets <= Math.ceil(n / 40) + 1, `lost ${h.lostPackets} of ${n} relayed (every 40th dropped)`);
  t.ok(h.lossRatio > 0.01 && h.lossRatio < 0.05, `loss ratio ${h.lossRatio.toFixed(3)}`);
});

t.test('interleaved data on a channel no track uses is dropped with a warning; receiver reports go out', async (t) => {
  const cam = await startCamera();
  t.teardown(() => cam.stop());
  const sent: Buffer[] = [];
  const p = await proxy(cam, (r) => {
    sent.push(Buffer.from(r, 'latin1'));
    return r;
  });
  t.teardown(() => p.close());
  const src = new RtspSource({ url: p.url, reportIntervalMs: 1000 });
  const warnings: string[] = [];
  src.on('warning', (e) => warnings.push(e.message));
  let frames = 0;
  src.on('frame', () => frames++);
  await src.start();
  for (let i = 0; i < 5; i++) p.inject.push(Buffer.from([0x24, 9, 0, 3, 1, 2, 3]));
  await new Promise((r) => setTimeout(r, 1000));
  t.match(warnings, [/channel 9, which no track was set up on/], 'one warning, not one per frame');
  const before = frames;
  await new Promise((r) => setTimeout(r, 500));
  t.ok(frames > before, 'the stream goes on');
  await src.stop();
  // The client's RTCP goes on the track's odd channel; RTCP packet type 201 is RR.
  const [rtcpFrames] = units(Buffer.concat(sent).subarray(Buffer.concat(sent).indexOf('$')));
  const rr = rtcpFrames.filter((u) => u[0] === 0x24 && u[1] === 1 && u[5] === 201);
  t.ok(rr.length >= 1, `receiver reports sent: ${rr.length}`);
  t.equal(rr[0]!.readUInt32BE(4 + 8), src.tracks[0]!.receiver.senderSsrc, 'the report block is about the camera SSRC');
  t.equal(rr[0]![4 + 1 + 24 + 8], 202, 'followed by SDES');
});

t.test('junk instead of a response: RtspProtocolError; silence: RtspTimeout', async (t) => {
  const junk = await fakeServer(() => 'HTTP/1.1 400 Bad Request\r\n\r\n');
  t.teardown(() => junk.close());
  await t.rejects(new RtspClient({ url: junk.url }).start(), { name: 'RtspProtocolError', message: /not an RTSP start line/ });
  const silent = await fakeServer(() => undefined);
  t.teardown(() => silent.close());
  const t0 = Date.now();
  await t.rejects(new RtspClient({ url: silent.url, timeoutMs: 500 }).start(), { name: 'RtspTimeout', message: /no response to OPTIONS within 500 ms/ });
  t.ok(Date.now() - t0 < 2000);
  const refused = await fakeServer(() => undefined);
  const port = new URL(refused.url).port;
  refused.close();
  await t.rejects(new RtspClient({ url: `rtsp://127.0.0.1:${port}/x` }).start(), { name: 'RtspConnectionError', message: /ECONNREFUSED/ });
});

for (const getParameter of [true, false]) {
  const method = getParameter ? 'GET_PARAMETER' : 'OPTIONS';
  t.test(`keep-alive: ${method} at half the session timeout${getParameter ? ' when the server lists it' : ' when GET_PARAMETER is not listed'}`, async (t) => {
    const sdp = 'v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';
    const server = await fakeServer((req, cseq) => {
      const h = `CSeq: ${cseq}\r\nSession: 42;timeout=5\r\n`;
      if (req.startsWith('OPTIONS')) return `RTSP/1.0 200 OK\r\n${h}Public: OPTIONS, DESCRIBE, SETUP, PLAY, ${getParameter ? 'GET_PARAMETER, ' : ''}TEARDOWN\r\n\r\n`;
      if (req.startsWith('DESCRIBE')) return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Base: rtsp://127.0.0.1/cam/\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
      if (req.startsWith('SETUP')) return `RTSP/1.0 200 OK\r\n${h}Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`;
      return `RTSP/1.0 200 OK\r\n${h}\r\n`;
    });
    t.teardown(() => server.close());
    const c = new RtspClient({ url: server.url, mediaTimeoutMs: 30000 });
    c.on('close', () => {});
    await c.start();
    t.equal(c.sessionTimeout, 5);
    const before = server.requests.length;
    await new Promise((r) => setTimeout(r, 2800));
    const keepAlives = server.requests.slice(before);
    t.equal(keepAlives.length, 1, 'one keep-alive after 2.5 s');
    t.match(keepAlives[0], new RegExp(`^${method} .*Session: 42`, 's'));
    t.match(server.requests.find((r) => r.startsWith('SETUP')), /^SETUP rtsp:\/\/127\.0\.0\.1\/cam\/track1 RTSP\/1\.0/);
    await c.stop();
    t.match(server.requests.at(-1), /^TEARDOWN /);
  });
}
