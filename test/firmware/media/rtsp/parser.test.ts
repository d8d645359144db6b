import t from 'tap';
import { RtspHeaders, serializeInterleaved, serializeRequest } from '../../../../firmware/media/rtsp/message.js';
import { RtspParser, type RtspItem } from '../../../../firmware/media/rtsp/parser.js';

// RFC 2326 §C.1 (abridged): a DESCRIBE response with an SDP body.
const sdp = 'v=0\r\no=- 2890844256 2890842807 IN IP4 172.16.2.93\r\ns=RTSP Session\r\nm=audio 0 RTP/AVP 0\r\na=control:rtsp://audio.example.com/twister/audio.en\r\n';
const describeResponse =
  'RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n' +
  `Content-Length: ${sdp.length}\r\n\r\n${sdp}`;

const all = (p: RtspParser, ...chunks: (string | Uint8Array)[]): RtspItem[] => chunks.flatMap((c) => p.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c));

t.test('a response with a body, split one byte at a time', async (t) => {
  const p = new RtspParser();
  const items = all(p, ...describeResponse.split(''));
  t.equal(items.length, 1);
  const r = items[0]!;
  if (r.type !== 'response') throw new Error('not a response');
  t.equal(r.message.status, 200);
  t.equal(r.message.reason, 'OK');
  t.equal(r.message.headers.get('content-type'), 'application/sdp', 'names are case-insensitive');
  t.equal(Buffer.from(r.message.body).toString(), sdp);
  t.equal(p.buffered, 0);
});

t.test('requests, repeated and folded headers, interleaved frames in between', async (t) => {
  const p = new RtspParser();
  const rtp = Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa]);
  const wire = Buffer.concat([
    serializeInterleaved(0, rtp),
    Buffer.from('\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="a"\r\nwww-authenticate: Basic realm="a"\r\nX-Long: part one\r\n  part two\r\n\r\n'),
    serializeInterleaved(1, Buffer.alloc(0)),
    Buffer.from('RTSP/1.0 401 Unauthorized\nCSeq: 2\n\n'),
  ]);
  const items = all(p, wire.subarray(0, 5), wire.subarray(5, 40), wire.subarray(40));
  t.same(items.map((i) => i.type), ['interleaved', 'request', 'interleaved', 'response']);
  const [a, b, , d] = items;
  t.same(a!.type === 'interleaved' && [a.channel, [...a.data]], [0, [...rtp]]);
  if (b!.type !== 'request') throw new Error('not a request');
  t.same(b.message.headers.getAll('WWW-AUTHENTICATE'), ['Digest realm="a"', 'Basic realm="a"']);
  t.equal(b.message.headers.get('x-long'), 'part one part two');
  t.equal(d!.type === 'response' && d.message.status, 401, 'bare LF line endings are tolerated');
});

t.test('limits and malformed input are RtspProtocolErrors, and the parser stays failed', async (t) => {
  const cases: [string | Buffer, RegExp, ConstructorParameters<typeof RtspParser>[0]?][] = [
    ['HTTP/1.1 200 OK\r\n\r\n', /not an RTSP start line/],
    ['RTSP/1.0 200 OK\r\nContent-Length: 2000000\r\n\r\n', /exceeds the 1048576-byte limit/],
    ['RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /invalid Content-Length/],
    ['RTSP/1.0 200 OK\r\nno colon here\r\n\r\n', /malformed header line/],
    [`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(5000)}`, /longer than 4096/],
    [`RTSP/1.0 200 OK\r\n${'X: y\r\n'.repeat(65)}\r\n`, /more than 64 headers/],
    [Buffer.from([0x80, 0x60, 0, 1]), /control byte 0x00|not an RTSP start line|control byte/],
    [`RTSP/1.0 200 OK\r\n${'X: y\r\n'.repeat(10)}`, /head longer than 40/, { maxHeadBytes: 40 }],
  ];
  for (const [input, msg, limits] of cases) {
    const p = new RtspParser(limits);
    t.throws(() => p.push(Buffer.from(input)), { name: 'RtspProtocolError', message: msg }, String(msg));
    t.throws(() => p.push(Buffer.from('RTSP/1.0 200 OK\r\n\r\n')), { name: 'RtspProtocolError' }, 'stays failed');
  }
});

t.test('serializing refuses header injection', async (t) => {
  const h = new RtspHeaders({ Session: 'abc\r\nEvil: 1' });
  t.throws(() => serializeRequest({ method: 'PLAY', uri: 'rtsp://x/', version: 'RTSP/1.0', headers: h, body: new Uint8Array(0) }), { name: 'RtspProtocolError', message: /line break/ });
  t.throws(() => serializeRequest({ method: 'PL AY', uri: 'rtsp://x/', version: 'RTSP/1.0', headers: new RtspHeaders(), body: new Uint8Array(0) }), /not a token/);
  t.throws(() => serializeInterleaved(0, new Uint8Array(70000)), /exceeds 65535/);
  const req = serializeRequest({ method: 'SET_PARAMETER', uri: 'rtsp://x/', version: 'RTSP/1.0', headers: new RtspHeaders({ CSeq: '3' }), body: Buffer.from('a: b\r\n') });
  t.equal(req.toString(), 'SET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 6\r\n\r\na: b\r\n');
});
