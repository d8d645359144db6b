// The disk bays from the web API, on a real RingStore over directory bays:
// who may see and format them, the typed confirmation, the force a disk with
// recordings needs, the audit record, and names that are not bays.
import t from 'tap';
import { caller, startWeb } from '../web-service.js';
import { diskStore } from '../disk-store.js';

const ADMIN_PW = 'Install-Er-2026';

t.test('disks: list, format with confirmation, check', async (t) => {
  const d = await diskStore();
  t.teardown(() => d.stop());
  const { web } = await startWeb({ disks: () => d.disks });
  t.teardown(() => web.stop());
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: ADMIN_PW });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  const login = async (name: string, password: string, role: string) => {
    t.equal((await call('POST', '/api/v1/users', admin, { name, password, role })).status, 201, `${role} added`);
    const r = await call('POST', '/api/v1/login', {}, { name, password });
    return { cookie: r.cookie, 'x-csrf-token': r.json.csrf as string };
  };
  const viewer = await login('guard', 'Night-Shift-77', 'viewer');
  const operator = await login('shiftlead', 'Shift-Lead-2026', 'operator');
  const diskId = (bay: string) => d.store.disks().find((x) => x.name === bay)!.diskId;
  const ids = () => d.store.disks().map((x) => x.diskId).join();
  const before = ids();
  const emptyId = diskId(d.empty);

  const list = await call('GET', '/api/v1/disks', admin);
  t.equal(list.status, 200);
  t.match(list.json.disks, [
    { name: 'sata1', kind: 'directory', state: 'ok', blocks: 8, capacityBytes: Number, smart: null },
    { name: 'sata2', kind: 'directory', state: 'ok', blocks: 8, capacityBytes: Number, smart: null },
  ], 'the bays as dvr disk list gives them');
  t.ok(list.json.disks.find((x: { name: string }) => x.name === d.holding).usedBlocks > 0, `${d.holding} holds the recording`);

  const format = (bay: string, who: Record<string, string>, body: unknown) => call('POST', `/api/v1/disks/${bay}/format`, who, body);
  t.equal((await call('GET', '/api/v1/disks')).status, 401, 'no session: 401');
  t.equal((await format(d.empty, {}, { confirm: d.empty })).status, 401, 'no session, format: 401');
  for (const [who, s] of [['viewer', viewer], ['operator', operator]] as const) {
    t.equal((await call('GET', '/api/v1/disks', s)).status, 403, `${who}: list 403`);
    t.equal((await format(d.empty, s, { confirm: d.empty, force: true })).status, 403, `${who}: format 403`);
    t.equal((await call('POST', `/api/v1/disks/${d.empty}/check`, s)).status, 403, `${who}: check 403`);
  }

  // The confirmation is the bay's name, exactly.
  for (const confirm of ['', d.empty.toUpperCase(), `${d.empty} `, 'yes', 'true']) {
    const r = await format(d.empty, admin, { confirm });
    t.equal(r.status, 422, `confirm ${JSON.stringify(confirm)}: 422`);
    t.match(r.json, { error: { code: 'confirm', message: new RegExp(`type its name "${d.empty}"`) } });
  }
  t.equal((await format(d.empty, admin, { force: true })).status, 422, 'confirm missing: 422');
  t.equal((await format(d.empty, admin, { confirm: true })).status, 422, 'confirm not a string: 422');
  t.equal((await format(d.empty, admin, { confirm: d.holding })).status, 422, "the other bay's name: 422");
  t.equal(ids(), before, 'nothing was formatted');

  // A disk with this store's recordings needs force, and is told what would go.
  const plan = await call('GET', `/api/v1/disks/${d.holding}/format`, admin);
  t.match(plan.json.plan, { bay: d.holding, holdsRecordings: true, destroys: [/^1 blocks of recordings/, /the store files in/] }, 'the plan');
  const refused = await format(d.holding, admin, { confirm: d.holding });
  t.equal(refused.status, 409, 'recordings without force: 409');
  t.match(refused.json.error, { code: 'needs-force', message: /holds recordings of this store: formatting destroys 1 blocks of recordings .*Tick force/ });
  t.equal(ids(), before, 'nothing was formatted');
  t.ok(d.store.blocks().some((b) => b.disk === d.holding), 'the recording is still there');

  // The empty bay formats without force; the one with recordings with it.
  const done = await format(d.empty, admin, { confirm: d.empty });
  t.equal(done.status, 200, 'formatted');
  t.match(done.json, { bay: d.empty, state: 'ok', blocks: 8 });
  t.not(diskId(d.empty), emptyId, 'a new disk id: it really was formatted');
  const forced = await format(d.holding, admin, { confirm: d.holding, force: true });
  t.equal(forced.status, 200, 'formatted with force');
  t.match(forced.json.destroyed, [/^1 blocks of recordings/]);
  t.notOk(d.store.blocks().some((b) => b.disk === d.holding), 'its recording is gone');
  const after = (await call('GET', '/api/v1/disks', admin)).json.disks as { name: string; state: string; usedBlocks: number; diskId: string }[];
  t.ok(after.every((x) => x.state === 'ok' && x.usedBlocks === 0), 'the list shows both bays empty and in service');
  t.same(after.map((x) => x.diskId), d.store.disks().map((x) => x.diskId), 'with their new ids');

  const audit = (await call('GET', '/api/v1/audit', admin)).json.records as { action: string; user: string; detail: { bay: string; force: boolean } }[];
  const formats = audit.filter((r) => r.action === 'disk-formatted');
  t.equal(formats.length, 2, 'each format is audited, refusals are not');
  t.match(formats.map((r) => ({ user: r.user, ...r.detail })).sort((a, b) => Number(a.force) - Number(b.force)), [
    { user: 'installer', bay: d.empty, force: false },
    { user: 'installer', bay: d.holding, force: true },
  ]);

  const check = await call('POST', `/api/v1/disks/${d.holding}/check`, admin);
  t.match(check.json, { ok: true, blocks: 8 }, 'a fresh disk checks clean');

  // Names that are not bays.
  const current = ids();
  for (const bay of ['nope', '..%2F..%2Fetc', '..%2F..', '%00', 'sata1%00', '%2E%2E', 'a'.repeat(65), 'a'.repeat(200), '%E0%A4%A']) {
    const r = await format(bay, admin, { confirm: bay, force: true });
    t.ok(r.status >= 400 && r.status < 500, `bay ${bay.slice(0, 20)}: ${r.status}`);
    t.match(r.json, { error: { code: String, message: String } }, 'a JSON error');
    t.ok([404, 400, 422].includes(r.status), 'refused as not a bay');
  }
  t.equal((await format('nope', admin, { confirm: 'nope' })).status, 404, 'unknown bay: 404');
  t.equal((await call('GET', '/api/v1/disks/..%2Fsata1/format', admin)).status, 400, 'traversal in the plan route: 400, a separator inside a segment');
  t.equal((await call('POST', '/api/v1/disks/sata2/../sata1/format', admin, { confirm: 'sata2' })).status, 400, 'dot segments are refused, not resolved to another bay');
  t.equal(ids(), current, 'nothing was formatted by any of them');

  const health = await call('GET', '/healthz');
  t.equal(health.status, 200, 'the process still answers /healthz');
});

t.test('without disks: 503', async (t) => {
  const { web } = await startWeb();
  t.teardown(() => web.stop());
  const call = caller(web);
  const setup = await call('POST', '/api/v1/setup', {}, { name: 'installer', password: ADMIN_PW });
  const admin = { cookie: setup.cookie, 'x-csrf-token': setup.json.csrf as string };
  t.match(await call('GET', '/api/v1/disks', admin), { status: 503, json: { error: { code: 'no-disks' } } });
  t.equal((await call('POST', '/api/v1/disks/sata1/format', admin, { confirm: 'sata1' })).status, 503);
});
