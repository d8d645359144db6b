import t from 'tap';
import { buildTransport, parseRtpInfo, parseSession, parseTransport } from '../../../../firmware/media/rtsp/transport.js';

t.test('Transport build and parse', async (t) => {
  t.equal(buildTransport({ lower: 'tcp', interleaved: [2, 3] }), 'RTP/AVP/TCP;unicast;interleaved=2-3');
  t.equal(buildTransport({ lower: 'udp', clientPort: [5000, 5001] }), 'RTP/AVP;unicast;client_port=5000-5001');
  const [u] = parseTransport('RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D;source=10.0.0.5;mode="PLAY"');
  t.match(u, { lower: 'udp', unicast: true, clientPort: [5000, 5001], serverPort: [6970, 6971], ssrc: 0x1a2b3c4d, source: '10.0.0.5', mode: 'PLAY' });
  const [tcp] = parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1');
  t.match(tcp, { lower: 'tcp', interleaved: [0, 1] });
  t.equal(parseTransport('RTP/AVP/TCP;interleaved=4')[0]!.interleaved![1], 5, 'a single channel implies the next for RTCP');
  t.equal(parseTransport('RTP/AVP;multicast;destination=239.0.0.1, RTP/AVP/TCP;interleaved=0-1').length, 2);
  t.throws(() => parseTransport('RAW/RAW/UDP;unicast'), { name: 'RtspProtocolError', message: /unsupported transport/ });
  t.throws(() => parseTransport('RTP/AVP/TCP;interleaved=300-301'), /not a valid range/);
  t.throws(() => parseTransport('RTP/AVP;ssrc=zz'), /32-bit hex/);
});

t.test('Session with and without timeout', async (t) => {
  t.same(parseSession('47112344;timeout=30'), { id: '47112344', timeout: 30 });
  t.same(parseSession('abc'), { id: 'abc', timeout: 60 });
  t.equal(parseSession('abc;timeout=0').timeout, 5, 'clamped so keep-alives do not spin');
  t.throws(() => parseSession(';timeout=3'), { name: 'RtspProtocolError' });
});

t.test('RTP-Info (RFC 2326 §12.33 example)', async (t) => {
  t.same(parseRtpInfo('url=rtsp://foo.com/bar.avi/streamid=0;seq=45102, url=rtsp://foo.com/bar.avi/streamid=1;seq=30211;rtptime=2890842807'), [
    { url: 'rtsp://foo.com/bar.avi/streamid=0', seq: 45102 },
    { url: 'rtsp://foo.com/bar.avi/streamid=1', seq: 30211, rtptime: 2890842807 },
  ]);
});
