import t from 'tap';
import { RtpError } from '../../../../firmware/media/rtp/errors.js';
import { buildRtp, isRtcp, parseRtp } from '../../../../firmware/media/rtp/packet.js';

t.test('fixed header fields, CSRCs, extension and padding', async (t) => {
  const b = Buffer.from([
    0xb2, 0xe0, 0x12, 0x34, // V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0x1234
    0xde, 0xad, 0xbe, 0xef, // timestamp
    0x01, 0x02, 0x03, 0x04, // ssrc
    0, 0, 0, 1, 0, 0, 0, 2, // CSRCs
    0xab, 0xac, 0, 1, 9, 9, 9, 9, // extension profile 0xabac, 1 word
    0xaa, 0xbb, // payload
    0, 0, 3, // 3 bytes padding
  ]);
  const p = parseRtp(b);
  t.equal(p.marker, true);
  t.equal(p.payloadType, 96);
  t.equal(p.sequence, 0x1234);
  t.equal(p.timestamp, 0xdeadbeef);
  t.equal(p.ssrc, 0x01020304);
  t.same(p.csrc, [1, 2]);
  t.same(p.extension && [p.extension.profile, [...p.extension.data]], [0xabac, [9, 9, 9, 9]]);
  t.same([...p.payload], [0xaa, 0xbb]);
});

t.test('malformed packets are RtpErrors naming the problem', async (t) => {
  t.throws(() => parseRtp(new Uint8Array(11)), { name: 'RtpError', message: /shorter than the 12-byte header/ });
  t.throws(() => parseRtp(new Uint8Array(12)), { message: /version 0/ });
  t.throws(() => parseRtp(Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), { message: /15 CSRCs overruns/ });
  t.throws(() => parseRtp(Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])), { message: /extension of 9 words/ });
  t.throws(() => parseRtp(Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 50])), RtpError);
});

t.test('build/parse round trip and RTCP demultiplexing', async (t) => {
  const b = buildRtp({ payloadType: 8, marker: false, sequence: 65535, timestamp: 2 ** 32 - 1, ssrc: 7, payload: new Uint8Array([1, 2, 3]) });
  t.match(parseRtp(b), { payloadType: 8, sequence: 65535, timestamp: 2 ** 32 - 1, ssrc: 7 });
  t.notOk(isRtcp(b));
  t.ok(isRtcp(Buffer.from([0x80, 200, 0, 6])));
});
