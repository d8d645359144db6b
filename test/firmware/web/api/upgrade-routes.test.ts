// Firmware upgrade over the API, against the web service alone: who may,
// what each bad bundle answers (422 with the reason, nothing installed, no
// restart), and a good one installed, audited and followed by the restart.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebService } from '../../../../firmware/web/web-service.js';
import type { Upgrader } from '../../../../firmware/upgrade/installer.js';
import { diskState, makeTree, makeUpgrader, newKey, scriptBundle, tempDir, upgradeRig, uploadBundle } from '../../upgrade/helpers.js';
import { adminAndClerk, startWeb } from '../web-service.js';

function upload(web: WebService, headers: Record<string, string>, file: string, query = '', type = 'application/octet-stream') {
  return uploadBundle(web.ports!.https, headers, file, { ca: web.certificate!.cert, query, type });
}

async function rig(t: Test, upgrader?: Upgrader) {
  let restarts = 0;
  const { web, dir } = await startWeb({ version: '1.0.0', restart: { kind: 'firmware', run: () => restarts++ }, ...(upgrader ? { upgrader: () => upgrader } : {}) });
  t.teardown(() => web.stop());
  const { call, admin, clerk } = await adminAndClerk(web);
  return { web, dir, call, admin, clerk, restarts: () => restarts };
}

t.test('upload: administrators only, refused bundles change nothing, a good one installs and restarts', async (t) => {
  const { dir, key, up, tree, good } = await upgradeRig(t);
  const stranger = await newKey(dir, 'stranger.pem');
  const { web, call, admin, clerk, restarts } = await rig(t, up);

  t.equal((await upload(web, {}, good)).status, 401, 'no session: 401');
  t.equal((await upload(web, clerk, good)).status, 403, 'an operator: 403');
  t.equal((await upload(web, { cookie: admin.cookie }, good)).status, 403, 'no CSRF token: 403');
  t.equal((await upload(web, admin, good, '', 'application/json')).status, 415, 'not sent as a file: 415');

  const status = async () => (await call('GET', '/api/v1/system/upgrade', admin)).json;
  const before = await status();
  t.same(before.upgrade, { running: '1.0.0', current: null, previous: null, slots: [], trustedKeys: before.upgrade.trustedKeys }, 'nothing installed yet');
  t.equal((await call('GET', '/api/v1/system/upgrade', clerk)).status, 403, 'an operator cannot read the status either');
  const disk = diskState(dir);

  const bytes = readFileSync(good);
  const write = (name: string, b: Buffer) => (writeFileSync(join(dir, name), b), join(dir, name));
  const bad: [string, string, RegExp][] = [
    ['another board', await scriptBundle({ tree, key: key.file, out: join(dir, 'board.bundle'), boards: ['rpi-cm4io'] }), /not for this board/],
    ['an untrusted key', await scriptBundle({ tree, key: stranger.file, out: join(dir, 'stranger.bundle') }), /does not trust/],
    ['a changed payload', write('changed.bundle', Buffer.concat([bytes.subarray(0, -10), Buffer.from(bytes.subarray(-10).map((b) => b ^ 1))])), /altered/],
    ['a truncated file', write('cut.bundle', bytes.subarray(0, bytes.length >> 1)), /truncated/],
    ['not newer', await scriptBundle({ tree: makeTree(join(dir, 'old'), '0.9.0'), key: key.file, out: join(dir, 'old.bundle') }), /not newer than the running 1\.0\.0/],
  ];
  for (const [why, file, reason] of bad) {
    const r = await upload(web, admin, file);
    t.equal(r.status, 422, `${why}: 422`);
    t.match(r.json.error.message, reason, `${why}: ${r.json.error.message}`);
    t.match(r.json.error.message, /^firmware not installed, 1\.0\.0 stays/, 'the answer says the running version stays');
  }
  t.same(await status(), before, 'after every refusal the status is unchanged');
  t.same(diskState(dir), disk, 'and nothing was written');
  await new Promise((res) => setTimeout(res, 400));
  t.equal(restarts(), 0, 'a refused bundle restarts nothing');

  const r = await upload(web, admin, good);
  t.equal(r.status, 200);
  t.equal(r.json.installed.version, '1.1.0');
  t.equal(r.json.restarting, 'firmware');
  t.match(r.json.note, /1\.1\.0 .*takes over at that restart/, 'the answer says when the new version runs');
  await new Promise((res) => setTimeout(res, 600));
  t.equal(restarts(), 1, 'the box restarts once, after the reply');
  const after = (await status()).upgrade;
  t.equal(after.current, '1.1.0', 'the new version is current');
  t.same(after.slots, ['1.1.0']);

  const audit = (await call('GET', '/api/v1/audit', admin)).json.records as { action: string; detail?: { installed?: boolean; version?: string; reason?: string } }[];
  const ups = audit.filter((a) => a.action === 'firmware-upgrade');
  t.equal(ups.filter((a) => a.detail?.installed === false).length, bad.length, 'every refusal is audited with its reason');
  t.ok(ups.some((a) => a.detail?.installed === true && a.detail.version === '1.1.0'), 'the install is audited');

  const older = await upload(web, admin, join(dir, 'old.bundle'), '?allowDowngrade=true');
  t.equal(older.status, 200, 'an explicit downgrade installs');
  t.equal(older.json.installed.previous, '1.1.0');
});

t.test('a board without an upgrade section says so; no key means no upgrade', async (t) => {
  const dir = tempDir(t);
  const key = await newKey(dir);
  const file = await scriptBundle({ tree: makeTree(join(dir, 'tree'), '1.1.0'), key: key.file, out: join(dir, 'a.bundle') });
  const none = await rig(t);
  const r = await upload(none.web, none.admin, file);
  t.equal(r.status, 503);
  t.match(r.json.error.message, /takes no firmware upgrade/);
  t.equal((await none.call('GET', '/api/v1/system/upgrade', none.admin)).json.upgrade, null);

  const keyless = await rig(t, makeUpgrader(dir, []));
  const k = await upload(keyless.web, keyless.admin, file);
  t.equal(k.status, 422);
  t.match(k.json.error.message, /no trusted firmware key/);

  const doc = (await none.call('GET', '/api/v1/openapi.json', none.admin)).json;
  t.ok(doc.paths['/api/v1/system/upgrade'].post.requestBody.content['application/octet-stream'], 'the API document shows the upload as a file');
});
