import t from 'tap';
import { readFileSync } from 'node:fs';
import { Broker, makeCerts, Watcher } from './broker.js';
import { makeService, ROOT } from './harness.js';
import { waitFor } from '../../helpers/firmware.js';

t.test('mqtts:// with the broker CA (as PEM text or a file), refused without it, accepted when insecure', async (t) => {
  const certs = makeCerts();
  const broker = await Broker.start({ tls: certs });
  t.teardown(() => broker.stop());
  const ca = readFileSync(certs.cafile);
  const w = await Watcher.connect(broker.url, [`${ROOT}/availability`], { ca });
  t.teardown(() => w.close());

  for (const [label, tls] of [
    ['CA as PEM text', { ca: ca.toString('utf8'), insecure: false }],
    ['CA as a file', { ca: certs.cafile, insecure: false }],
    ['insecure', { ca: null, insecure: true }],
  ] as const) {
    const { svc } = makeService(broker.url, { mqtt: { tls } });
    await svc.start();
    await waitFor(`connected (${label})`, async () => svc.status().connected);
    await svc.stop();
    t.pass(`connects over TLS: ${label}`);
  }
  t.ok(w.on(`${ROOT}/availability`).some((s) => s.text === 'online'), 'availability published over TLS');

  const { svc, log } = makeService(broker.url);
  await svc.start();
  t.teardown(() => svc.stop());
  await waitFor('a TLS error logged', async () => log.ring.tail().some((r) => /TLS: .*mqtt\.tls\.ca/.test(String(r.reason))));
  t.notOk(svc.status().connected, 'an unknown CA is refused');

  const missing = makeService(broker.url, { mqtt: { tls: { ca: '/nonexistent/ca.pem', insecure: false } } });
  await t.rejects(missing.svc.start(), /mqtt\.tls\.ca: cannot read \/nonexistent\/ca\.pem: ENOENT/);
  await missing.svc.stop();
});
