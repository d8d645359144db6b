// The network tab and retention days in Debian's Chromium, against a
// WebService alone with a real NTP server (Debian's chronyd on a loopback
// port): the box's addresses, "Test NTP" answered by the server, a static
// address refused while its gateway is outside it, and the days recordings
// are kept, saved from the storage tab.
import t from 'tap';
import { join } from 'node:path';
import { browserReady, logIn, openBrowser, pageDir, shots } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';
import { startChronyd } from '../net/ntp/chronyd.js';

if (browserReady(t, 'settings-network.js')) {
  t.setTimeout(120_000);

  t.test('network status, NTP test, a refused static address, and retention days', async (t) => {
    const ntp = await startChronyd();
    if ('skip' in ntp) {
      t.skip(ntp.skip, () => {});
      return;
    }
    t.teardown(() => ntp.stop());
    const { web, config } = await startWeb({ pageDir, ntpPort: ntp.port });
    t.teardown(() => web.stop());
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');
    const { page, problems } = await openBrowser(t, { viewport: { width: 1280, height: 900 }, expected: /status of (401|422|503)/ }); // 422: the refused gateway; 503: the storage tab's disks (no store here)

    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=network]');
    await page.locator('.network-status').waitFor();
    t.ok(await page.locator('#network-unmanaged').isVisible(), 'says the firmware does not manage this machine\'s network');
    const shown = await page.locator('.network-status').textContent();
    t.match(shown, /The box's clock:/);

    await page.fill('input[name=ntp-test-server]', '127.0.0.1');
    await page.click('#ntp-test');
    const result = page.locator('#ntp-test-result');
    await result.filter({ hasText: /answered|no NTP/ }).waitFor();
    if (shots) await page.screenshot({ path: join(shots, 'settings-network.png'), fullPage: true });
    t.match(await result.textContent(), /^127\.0\.0\.1 answered \(stratum 8, \d+ ms away\): the box is \d+ ms (behind|ahead of) it$/, 'the server, its stratum and the clock offset');

    // A static address whose gateway is elsewhere: refused, saying why, and nothing saved.
    await page.locator('input[name="network.lan.dhcp"]').waitFor();
    await page.fill('input[name="network.lan.address"]', '192.168.1.64/24');
    await page.locator('input[name="network.lan.address"]').dispatchEvent('change');
    await page.locator('label.setting', { has: page.locator('input[name="network.lan.address"]') }).locator('.note-inline.saved').waitFor();
    await page.fill('input[name="network.lan.gateway"]', '192.168.2.1');
    await page.locator('input[name="network.lan.gateway"]').dispatchEvent('change');
    const gwNote = page.locator('label.setting', { has: page.locator('input[name="network.lan.gateway"]') }).locator('.note-inline.error');
    await gwNote.waitFor();
    t.match(await gwNote.textContent(), /192\.168\.2\.1 is outside 192\.168\.1\.64\/24/, 'the gateway outside the address is refused, saying why');
    t.equal(config.get().network.lan.gateway, null, 'and not saved');
    t.equal(config.get().network.lan.dhcp, true, 'the box stays on DHCP');
    await page.fill('input[name="network.lan.gateway"]', '192.168.1.1');
    await page.locator('input[name="network.lan.gateway"]').dispatchEvent('change');
    await page.locator('label.setting', { has: page.locator('input[name="network.lan.gateway"]') }).locator('.note-inline.saved').waitFor();
    await page.locator('input[name="network.lan.dhcp"]').uncheck();
    await page.locator('label.setting', { has: page.locator('input[name="network.lan.dhcp"]') }).locator('.note-inline.saved').waitFor();
    t.match(config.get().network.lan, { managed: true, dhcp: false, address: '192.168.1.64/24', gateway: '192.168.1.1' }, 'a gateway inside it, then DHCP off: the static address is saved');

    await page.click('button[data-section=storage]');
    await page.fill('input[name="storage.maxDays"]', '30');
    await page.locator('input[name="storage.maxDays"]').dispatchEvent('change');
    await page.locator('label.setting', { has: page.locator('input[name="storage.maxDays"]') }).locator('.note-inline.saved').waitFor();
    t.equal(config.get().storage.maxDays, 30, 'recordings kept 30 days, as typed in the page');
    t.same(problems, [], 'no script error or CSP violation in the page');
  });
}
