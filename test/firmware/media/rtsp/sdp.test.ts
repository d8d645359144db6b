import t from 'tap';
import { RtspHeaders } from '../../../../firmware/media/rtsp/message.js';
import { mediaUrl, parseSdp, resolveControl, sdpBaseUrl } from '../../../../firmware/media/rtsp/sdp.js';

// What the sim camera (gst-rtsp-server) sends for --codec h264 --audio.
const camera = [
  'v=0',
  'o=- 1188340656180883 1 IN IP4 127.0.0.1',
  's=Session streamed with GStreamer',
  'i=rtsp-server',
  't=0 0',
  'a=tool:GStreamer',
  'a=type:broadcast',
  'a=control:*',
  'a=range:npt=now-',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:1024',
  'a=rtpmap:96 H264/90000',
  'a=framerate:25',
  'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtoCwEmwFKDAwNSgAAADACAAAAZR4sXU,aM48gA==;profile-level-id=42c01e;level-asymmetry-allowed=1',
  'a=control:stream=0',
  'm=audio 0 RTP/AVP 97',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:97 MPEG4-GENERIC/48000/1',
  'a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1188;sizelength=13;indexlength=3;indexdeltalength=3',
  'a=control:stream=1',
  '',
].join('\r\n');

t.test('camera SDP: media, rtpmap, fmtp with base64 values, controls', async (t) => {
  const s = parseSdp(camera);
  t.equal(s.sessionName, 'Session streamed with GStreamer');
  t.equal(s.control, '*');
  t.equal(s.range, 'npt=now-');
  t.equal(s.media.length, 2);
  const [v, a] = s.media;
  t.match(v, { type: 'video', port: 0, protocol: 'RTP/AVP', payloadTypes: [96], control: 'stream=0', bandwidthKbps: 1024 });
  t.same(v!.rtpmap.get(96), { encoding: 'H264', clockRate: 90000 });
  t.equal(v!.fmtp.get(96)!['sprop-parameter-sets'], 'Z0LAHtoCwEmwFKDAwNSgAAADACAAAAZR4sXU,aM48gA==');
  t.same(a!.rtpmap.get(97), { encoding: 'MPEG4-GENERIC', clockRate: 48000, channels: 1 });
  t.match(a!.fmtp.get(97), { mode: 'AAC-hbr', config: '1188', sizelength: '13', indexlength: '3' });
  t.same(v!.attributes.find(([k]) => k === 'framerate'), ['framerate', '25']);
});

t.test('H.265 sprop-vps/sps/pps and static payload types without rtpmap', async (t) => {
  const s = parseSdp('v=0\ns=x\nm=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\na=fmtp:96 sprop-vps=QAE=; sprop-sps=QgE=; sprop-pps=RAE=\nm=audio 0 RTP/AVP 8\n');
  t.match(s.media[0]!.fmtp.get(96), { 'sprop-vps': 'QAE=', 'sprop-sps': 'QgE=', 'sprop-pps': 'RAE=' });
  t.same(s.media[1]!.payloadTypes, [8]);
  t.equal(s.media[1]!.rtpmap.size, 0);
});

t.test('malformed SDP is an RtspProtocolError', async (t) => {
  t.throws(() => parseSdp('hello'), { name: 'RtspProtocolError', message: /v=/ });
  t.throws(() => parseSdp('v=0\nm=video x RTP/AVP 96'), /malformed SDP media line/);
  t.throws(() => parseSdp('v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264'), /malformed a=rtpmap/);
  t.throws(() => parseSdp('v=0\nnonsense'), /not <type>=<value>/);
  t.throws(() => parseSdp('v=0\n' + 'a=x\n'.repeat(3000)), /more than 2000 lines/);
});

t.test('control resolution: Content-Base, Content-Location, request URL', async (t) => {
  const req = 'rtsp://cam/live/ch1';
  t.equal(sdpBaseUrl(req, new RtspHeaders({ 'Content-Base': 'rtsp://cam/live/ch1/', 'Content-Location': 'rtsp://other/' })), 'rtsp://cam/live/ch1/');
  t.equal(sdpBaseUrl(req, new RtspHeaders({ 'Content-Location': 'rtsp://cam/loc/' })), 'rtsp://cam/loc/');
  t.equal(sdpBaseUrl(req, new RtspHeaders()), req);
  t.equal(resolveControl('rtsp://cam/live/ch1/', 'stream=0'), 'rtsp://cam/live/ch1/stream=0');
  t.equal(resolveControl('rtsp://cam/live/ch1', 'trackID=1'), 'rtsp://cam/live/ch1/trackID=1', 'no trailing slash: appended as a segment');
  t.equal(resolveControl('rtsp://cam/live/ch1', 'rtsp://cam:554/abs/track1'), 'rtsp://cam:554/abs/track1');
  t.equal(resolveControl('rtsp://cam:8554/live/ch1', '/root/track'), 'rtsp://cam:8554/root/track');
  t.equal(resolveControl('rtsp://cam/x/', '*'), 'rtsp://cam/x/');
  const s = parseSdp('v=0\na=control:rtsp://cam/agg\nm=video 0 RTP/AVP 96\na=control:track1\nm=audio 0 RTP/AVP 0\n');
  t.equal(mediaUrl(s, s.media[0]!, 'rtsp://cam/base/'), 'rtsp://cam/agg/track1', 'relative to the session control');
  t.equal(mediaUrl(s, s.media[1]!, 'rtsp://cam/base/'), 'rtsp://cam/agg', 'no media control: the aggregate');
});
