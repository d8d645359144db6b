// The settings page writes back what it was shown, where secrets are "***":
// the stored secrets must survive that, and follow their own list item.
import t from 'tap';
import { keepSecrets } from '../../../../firmware/web/api/config-routes.js';

t.test('"***" keeps the stored secret, anything else replaces it', async (t) => {
  const stored = { url: 'mqtts://broker', username: 'ha', password: 'broker-pw' };
  t.same(keepSecrets({ ...stored, password: '***' }, stored), stored, 'the placeholder keeps it');
  t.same(keepSecrets({ ...stored, password: 'new-pw' }, stored), { ...stored, password: 'new-pw' }, 'a typed one replaces it');
  t.same(keepSecrets({ ...stored, url: '***' }, stored), { ...stored, url: '***' }, 'only secret fields are placeholders');
});

t.test('a list written back with one item removed: each password stays with its own channel', async (t) => {
  const stored = [
    { id: 'cam1', password: 'one' },
    { id: 'cam2', password: 'two' },
    { id: 'cam3', password: 'three' },
  ];
  const shown = stored.map((c) => ({ ...c, password: '***' }));
  t.same(keepSecrets([shown[0], shown[2]], stored), [stored[0], stored[2]], 'cam3 keeps its own, not cam2’s');
  t.same((keepSecrets([...shown, { id: 'cam4', password: '***' }], stored) as unknown[]).at(-1), { id: 'cam4', password: undefined }, 'a new item has no secret to inherit');
});
