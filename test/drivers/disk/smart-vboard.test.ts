// SMART for real: the virtual board's two AHCI disks (QEMU ide-hd, which
// implements ATA SMART) read with the host's smartctl through drivers/disk,
// inside the guest. The guest runs the compiled driver (dist/) and prints JSON.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInVboard, vboardUnavailable } from '../../../scripts/vboard/vboard.js';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
const dist = join(root, 'dist', 'drivers', 'disk', 'index.js');
const skip = vboardUnavailable() ?? (existsSync(dist) ? null : `no compiled driver at ${dist} (npx tsc -p tsconfig.json builds it)`);
t.setTimeout(600_000);

const guest = `
set -e
command -v smartctl >/dev/null || { echo '{"skip":"smartctl is not installed"}'; exit 0; }
node --input-type=module -e '
const d = await import(process.argv[1]);
const out = {};
for (const dev of ["/dev/sda", "/dev/sdb"]) {
  out[dev] = { block: await d.describeBlockDevice(dev), smart: await d.readSmartHealth(dev) };
}
console.log(JSON.stringify(out));
' "${dist}"
`;

t.test('smartctl --json on the AHCI disks of the virtual board', { skip: skip ?? false }, async (t) => {
  const run = await runInVboard(guest, { timeoutMs: 400_000 });
  t.equal(run.code, 0, 'the guest script ran', { stderr: run.stderr.slice(-3000) });
  const r = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}');
  if (r.skip) return t.skip(r.skip, () => {});
  for (const [dev, n] of [['/dev/sda', 1], ['/dev/sdb', 2]] as const) {
    t.match(r[dev].block, { node: dev, sizeBytes: 256 * 1024 * 1024, model: `VBOARD-SATA-${n - 1}`, readOnly: false }, `${dev}: sysfs facts`);
    t.match(r[dev].smart, { passed: true, model: `VBOARD-SATA-${n - 1}`, serial: `VB000000000${n}`, capacityBytes: 256 * 1024 * 1024 }, `${dev}: SMART verdict and identity`);
    t.type(r[dev].smart.powerOnHours, 'number', `${dev}: power-on hours from the attribute table`);
  }
});
