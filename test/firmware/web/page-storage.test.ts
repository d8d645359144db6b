// The storage tab's disk editor in Debian's Chromium, against a WebService
// alone (no firmware) over a real RingStore on two directory bays: log in,
// see the bays, format the one holding recordings by typing its name and
// ticking force, see the outcome and the emptied bay.
import t from 'tap';
import { browserReady, logIn, openBrowser, pageDir } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';
import { diskStore } from './disk-store.js';

if (browserReady(t, 'settings-storage.js')) {
  t.setTimeout(120_000);

  t.test('format a bay from the storage settings', async (t) => {
    const d = await diskStore();
    t.teardown(() => d.stop());
    const { web } = await startWeb({ disks: () => d.disks, store: () => d.store, pageDir });
    t.teardown(() => web.stop());
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');

    const { page, problems } = await openBrowser(t, { viewport: { width: 1280, height: 800 }, expected: /status of 401/ }); // the page asking who is logged in, before the login

    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=storage]');

    const rows = page.locator('.disks tr[data-bay]');
    await rows.first().waitFor();
    const bays: (string | null)[] = [];
    for (let i = 0; i < (await rows.count()); i++) bays.push(await rows.nth(i).getAttribute('data-bay'));
    t.same(bays, ['sata1', 'sata2'], 'both bays listed');
    const cells = async (bay: string) => (await page.locator(`.disks tr[data-bay="${bay}"] td`).allTextContents()).map((s) => s.trim());
    t.match(await cells(d.holding), [d.holding, 'ok', /iB$/, /^[\d.]+ KiB \(1\/8 blocks\)$/, '–', '–', 'Format…'], `${d.holding}: state, capacity, used`);
    t.ok(await page.locator('select[name="storage.mode"]').count(), 'the generic storage settings are still below');

    // The confirmation: what goes, the typed name, and force for a disk with recordings.
    await page.click(`button[data-format="${d.holding}"]`);
    const panel = page.locator(`.format-confirm[data-confirm="${d.holding}"]`);
    await panel.waitFor();
    t.match(await panel.locator('ul.destroys').textContent(), /1 blocks of recordings/, 'what formatting destroys is shown');
    const go = panel.locator(`button[data-format-go="${d.holding}"]`);
    t.ok(await go.isDisabled(), 'nothing to click before the name is typed');
    await panel.locator(`input[name="confirm-${d.holding}"]`).fill(d.holding.toUpperCase());
    t.ok(await go.isDisabled(), 'a name that is not the bay: still disabled');
    await panel.locator(`input[name="confirm-${d.holding}"]`).fill(d.holding);
    t.ok(await go.isDisabled(), 'the name typed, but force not ticked: still disabled');
    t.ok(d.store.blocks().some((b) => b.disk === d.holding), 'nothing formatted yet');
    await panel.locator(`input[name="force-${d.holding}"]`).check();
    t.notOk(await go.isDisabled(), 'name and force: the format can be sent');
    await go.click();

    const outcome = page.locator('[data-disk-outcome]');
    await outcome.filter({ hasText: /formatted/ }).waitFor();
    t.match(await outcome.textContent(), new RegExp(`Bay ${d.holding} formatted: 8 blocks of 256\\.0 KiB, disk ok`), 'the outcome is shown');
    await page.locator(`.disks tr[data-bay="${d.holding}"] td`, { hasText: '(0/8 blocks)' }).waitFor();
    t.pass('the table shows the bay empty');
    t.notOk(d.store.blocks().some((b) => b.disk === d.holding), 'the store agrees');
    const audit = (await caller(web)('GET', '/api/v1/audit', { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ') })).json;
    t.match(audit.records.filter((r: { action: string }) => r.action === 'disk-formatted'), [{ user: 'installer', detail: { bay: d.holding, force: true } }], 'audited');
    t.same(problems, [], 'no script error or CSP violation in the page');
  });
}
