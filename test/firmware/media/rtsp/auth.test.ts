import t from 'tap';
import { Authenticator, digestResponse, parseChallenges } from '../../../../firmware/media/rtsp/auth.js';

t.test('RFC 2617 §3.5 worked example', async (t) => {
  t.equal(
    digestResponse({ username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', uri: '/dir/index.html', method: 'GET', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' }),
    '6629fae49393a05397450978507c4ef1',
  );
});

t.test('RFC 7616 §3.9.1 SHA-256 example', async (t) => {
  t.equal(
    digestResponse({ username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', uri: '/dir/index.html', method: 'GET', algorithm: 'SHA-256', qop: 'auth', nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

t.test('challenge parsing: several per header, quoted commas, escapes', async (t) => {
  const c = parseChallenges(['Digest realm="a, b", nonce="n\\"1", qop="auth,auth-int", algorithm=MD5, Basic realm="x"', 'Bearer abc==']);
  t.same(c.map((x) => x.scheme), ['digest', 'basic', 'bearer']);
  t.same({ ...c[0]!.params }, { realm: 'a, b', nonce: 'n"1', qop: 'auth,auth-int', algorithm: 'MD5' });
  t.same({ ...c[2]!.params }, { token68: 'abc==' });
});

t.test('the strongest offered challenge wins; nc counts per request', async (t) => {
  const a = new Authenticator({ username: 'admin', password: 'pw' }, () => 'c0ffee');
  t.equal(a.authorization('OPTIONS', 'rtsp://cam/'), undefined, 'nothing before a challenge');
  t.equal(a.challenge(['Basic realm="cam"', 'Digest realm="cam", nonce="abc", algorithm=MD5, qop="auth"', 'Digest realm="cam", nonce="abc", algorithm=SHA-256, qop="auth"']), true);
  const h1 = a.authorization('DESCRIBE', 'rtsp://cam/s')!;
  t.match(h1, /^Digest username="admin", realm="cam", nonce="abc", uri="rtsp:\/\/cam\/s", response="[0-9a-f]{64}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c0ffee"$/);
  t.match(a.authorization('SETUP', 'rtsp://cam/s/1'), /nc=00000002/);
  // Refused again with the same nonce: no further retry. Stale nonce: retry.
  t.equal(a.challenge(['Digest realm="cam", nonce="abc"']), false);
  t.equal(a.challenge(['Digest realm="cam", nonce="def", stale=true']), true);
  t.match(a.authorization('PLAY', 'rtsp://cam/s'), /nonce="def".*response="[0-9a-f]{32}"/);
});

t.test('Basic only, RFC 2069 digest without qop, and what cannot work', async (t) => {
  const b = new Authenticator({ username: 'Aladdin', password: 'open sesame' });
  b.challenge(['Basic realm="WallyWorld"']);
  t.equal(b.authorization('OPTIONS', '*'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  const d = new Authenticator({ username: 'u', password: 'p' });
  d.challenge(['Digest realm="r", nonce="n", opaque="o"']);
  const h = d.authorization('OPTIONS', 'rtsp://c/')!;
  t.notMatch(h, /qop|nc=|cnonce/);
  t.match(h, /opaque="o"/);
  t.ok(h.includes(`response="${digestResponse({ username: 'u', password: 'p', realm: 'r', nonce: 'n', uri: 'rtsp://c/', method: 'OPTIONS' })}"`));
  t.throws(() => new Authenticator(undefined).challenge(['Basic realm="x"']), { name: 'RtspUnauthorized', message: /no credentials/ });
  t.throws(() => new Authenticator({ username: 'u', password: 'p' }).challenge(['Negotiate', 'Digest realm="r", nonce="n", algorithm=SHA-1']), { name: 'RtspUnauthorized', message: /no supported/ });
});
