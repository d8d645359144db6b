import t from 'tap';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificate, installCertificate } from '../../../firmware/web/tls.js';

t.test('first boot generates a certificate once; later boots reuse it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const a = await ensureCertificate(dir);
  t.ok(a.generated);
  t.match(a.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600, 'private key readable by root only');
  const b = await ensureCertificate(dir);
  t.notOk(b.generated);
  t.equal(b.fingerprint, a.fingerprint);
});

t.test('a broken pair on disk is replaced, an uploaded pair is checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const first = await ensureCertificate(dir);
  const other = await ensureCertificate(mkdtempSync(join(tmpdir(), 'tls-')));
  await t.rejects(installCertificate(dir, first.cert, other.key), /does not belong to the certificate/);
  await t.rejects(installCertificate(dir, 'junk', first.key), /not a PEM certificate/);
  await t.rejects(installCertificate(dir, first.cert, 'junk'), /not a PEM private key/);
  t.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), first.cert, 'nothing installed after a refusal');
  const ok = await installCertificate(dir, other.cert, other.key);
  t.equal(ok.fingerprint, other.fingerprint);
  writeFileSync(join(dir, 'key.pem'), first.key); // a mismatched pair, as after a crash mid-install
  const healed = await ensureCertificate(dir);
  t.ok(healed.generated, 'a mismatched pair is regenerated, not served');
});
