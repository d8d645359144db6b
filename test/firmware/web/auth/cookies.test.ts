// The Cookie header as a browser or an attacker sends it: the first value of
// a name wins (a later duplicate cannot replace the session), and names that
// are built-in members of a plain object are ordinary names.
import t from 'tap';
import { parseCookies } from '../../../../firmware/web/auth/web-auth.js';

t.test('cookies by name, the first of a name kept', async (t) => {
  t.same({ ...parseCookies('dvr_session=abc; theme=dark') }, { dvr_session: 'abc', theme: 'dark' });
  t.equal(parseCookies('s=first; s=second').s, 'first', 'a duplicate does not replace the first');
  t.same({ ...parseCookies(undefined) }, {}, 'no header: no cookies');
  t.same({ ...parseCookies('novalue; =x; a=1') }, { a: '1' }, 'parts without a name are skipped');
});

t.test('built-in member names are plain cookie names', async (t) => {
  const c = parseCookies('toString=1; __proto__=2; constructor=3; hasOwnProperty=4');
  t.equal(c['toString'], '1');
  t.equal(c['__proto__'], '2');
  t.equal(c['constructor'], '3');
  t.equal(c['hasOwnProperty'], '4');
  t.equal(Object.getPrototypeOf(c), null, 'the result has no prototype to reach');
  t.equal(parseCookies('a=1')['toString'], undefined, 'an absent name is absent, not a built-in function');
});
