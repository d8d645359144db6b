// Certificate replacement, restart and factory reset over the API: what an
// admin sees, what a wrong or partial request leaves untouched.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { adminAndClerk, startWeb } from '../web-service.js';

const run = promisify(execFile);

/** A certificate and key made by openssl, as an installer would bring them. */
async function makeCertificate(cn: string, days = 30): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cert-'));
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn},DNS:localhost`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')]);
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fingerprint of the certificate a new TLS connection is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

async function rig(t: Test, restart?: { kind: 'firmware' | 'board'; run: () => void }) {
  const { web, config, dir } = await startWeb(restart ? { restart } : {});
  t.teardown(async () => {
    await web.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { call, admin, clerk } = await adminAndClerk(web);
  return { web, config, call, admin, clerk };
}

t.test('the HTTPS certificate is shown and replaced without a restart', async (t) => {
  const { web, call, admin, clerk } = await rig(t);
  const shown = await call('GET', '/api/v1/system/certificate', admin);
  t.equal(shown.status, 200);
  t.equal(shown.json.certificate.fingerprint, await servedFingerprint(web.ports!.https), 'the fingerprint shown is the one served');
  t.equal(shown.json.certificate.selfSigned, true, 'the first-boot certificate is self-signed');
  t.equal((await call('GET', '/api/v1/system/certificate', clerk)).status, 403, 'an operator: 403');

  const mine = await makeCertificate('recorder.example.lan');
  const other = await makeCertificate('other');
  const before = shown.json.certificate.fingerprint as string;
  for (const [body, why] of [
    [{ cert: 'junk', key: mine.key }, 'a certificate that is not PEM'],
    [{ cert: mine.cert, key: 'junk' }, 'a key that is not PEM'],
    [{ cert: mine.cert, key: other.key }, "someone else's key"],
    [{ cert: mine.cert }, 'no key'],
  ] as const) {
    const r = await call('PUT', '/api/v1/system/certificate', admin, body);
    t.equal(r.status, 422, `${why}: 422 (${r.json.error.message})`);
    t.notMatch(r.json.error.message, /PRIVATE KEY/, 'the key is never echoed');
  }
  t.equal((await call('PUT', '/api/v1/system/certificate', clerk, mine)).status, 403, 'an operator cannot replace it');
  t.equal(await servedFingerprint(web.ports!.https), before, 'after every refusal the old certificate is still served');

  const put = await call('PUT', '/api/v1/system/certificate', admin, mine);
  t.equal(put.status, 200);
  t.match(put.json.certificate.subject, /CN=recorder\.example\.lan/);
  t.not(put.json.certificate.fingerprint, before);
  t.equal(await servedFingerprint(web.ports!.https), put.json.certificate.fingerprint, 'the next connection gets the uploaded certificate');
  const audit = (await call('GET', '/api/v1/audit', admin)).json.records as { action: string; detail?: { what?: string } }[];
  t.ok(audit.some((r) => r.action === 'setting-changed' && r.detail?.what === 'https certificate'), 'the replacement is audited');
});

t.test('restart: confirmed, audited, run once after the reply; 503 where the box cannot', async (t) => {
  let runs = 0;
  const { call, admin, clerk } = await rig(t, { kind: 'firmware', run: () => runs++ });
  t.equal((await call('POST', '/api/v1/system/restart', admin, {})).status, 422, 'without the confirmation: 422');
  t.equal((await call('POST', '/api/v1/system/restart', clerk, { confirm: 'restart' })).status, 403, 'an operator: 403');
  const r = await call('POST', '/api/v1/system/restart', admin, { confirm: 'restart' });
  t.equal(r.status, 202);
  t.same(r.json, { restarting: 'firmware' });
  await new Promise((res) => setTimeout(res, 600));
  t.equal(runs, 1, 'the restart ran once, after the reply');
  const audit = (await call('GET', '/api/v1/audit', admin)).json.records as { action: string }[];
  t.equal(audit.filter((x) => x.action === 'restart').length, 1, 'and is in the audit log');

  const none = await rig(t);
  t.equal((await none.call('POST', '/api/v1/system/restart', none.admin, { confirm: 'restart' })).status, 503, 'a box without a restart hook says so');
});

t.test('factory reset: needs the admin password; then settings, accounts, tokens and sessions are gone', async (t) => {
  let runs = 0;
  const { web, config, call, admin, clerk } = await rig(t, { kind: 'firmware', run: () => runs++ });
  await config.set('system.name', 'Shop front');
  const token = await call('POST', '/api/v1/tokens', admin, { label: 'home assistant' });
  t.equal(token.status, 201);
  const bearer = { authorization: `Bearer ${token.json.token.token}` };
  t.equal((await call('GET', '/api/v1/channels', bearer)).status, 200, 'the token works before');

  t.equal((await call('POST', '/api/v1/system/factory-reset', admin, { confirm: 'factory reset', password: 'Wrong-Pass-2026' })).status, 403, 'a wrong password: 403');
  t.equal((await call('POST', '/api/v1/system/factory-reset', admin, { confirm: 'reset', password: 'Install-Er-2026' })).status, 422, 'a wrong confirmation: 422');
  t.equal((await call('POST', '/api/v1/system/factory-reset', clerk, { confirm: 'factory reset', password: 'Night-Shift-77' })).status, 403, 'an operator: 403');
  t.equal(config.get().system.name, 'Shop front', 'nothing was reset by the refused calls');
  t.equal(web.users!.list().length, 2);

  const r = await call('POST', '/api/v1/system/factory-reset', admin, { confirm: 'factory reset', password: 'Install-Er-2026' });
  t.equal(r.status, 202);
  t.not(config.get().system.name, 'Shop front', 'the settings are the factory ones');
  t.equal(web.users!.list().length, 0, 'no account is left');
  t.equal((await call('GET', '/api/v1/setup')).json.setupNeeded, true, 'the page asks for a new admin, as on first boot');
  t.equal((await call('GET', '/api/v1/channels', admin)).status, 503, 'until a new admin exists the API answers only that setup is needed');
  const again = await call('POST', '/api/v1/setup', {}, { name: 'newowner', password: 'New-Owner-2027' });
  t.equal(again.status, 201, 'the new owner creates the admin account');
  t.equal((await call('GET', '/api/v1/channels', admin)).status, 401, "the old admin's session has ended");
  t.equal((await call('GET', '/api/v1/channels', bearer)).status, 401, 'the old API token no longer works');
  await new Promise((res) => setTimeout(res, 600));
  t.equal(runs, 1, 'the firmware restarts to run on the factory settings');
  t.equal((await call('GET', '/healthz')).status, 200);
});
