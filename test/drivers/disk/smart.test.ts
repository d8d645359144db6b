import t from 'tap';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { SmartError, parseSmartctlJson, readSmartHealth } from '../../../drivers/disk/index.js';

t.test('smartctl on a device without SMART: no verdict, the reason kept', async (t) => {
  let hasSmartctl = true;
  try {
    execFileSync('smartctl', ['--version']);
  } catch {
    hasSmartctl = false;
  }
  if (!hasSmartctl) {
    t.skip('smartctl is not installed (Debian smartmontools; make test installs it)', () => {});
    return;
  }
  // /dev/null is a real character device smartctl refuses: its genuine error output.
  const h = await readSmartHealth('/dev/null');
  t.equal(h.passed, null);
  t.match(h.messages.join('\n'), /Unable to detect device type|not a block device|Unknown/i);
});

t.test('a healthy and a failing ATA disk as smartctl 7 reports them', async (t) => {
  // Field layout of smartctl 7.x JSON for ATA disks (json_format_version 1.0); values as a dying disk shows them.
  const report = (passed: boolean, realloc: number) =>
    JSON.stringify({
      json_format_version: [1, 0],
      smartctl: { version: [7, 3], exit_status: passed ? 0 : 8 },
      model_name: 'WDC WD20PURZ-85GU6Y0',
      serial_number: 'WD-WX12A3456789',
      firmware_version: '80.00A80',
      user_capacity: { blocks: 3907029168, bytes: 2000398934016 },
      smart_status: { passed },
      ata_smart_attributes: { revision: 16, table: [{ id: 5, name: 'Reallocated_Sector_Ct', value: 200, worst: 200, thresh: 140, raw: { value: realloc, string: String(realloc) } }, { id: 197, name: 'Current_Pending_Sector', raw: { value: 3 } }] },
      power_on_time: { hours: 21034 },
      temperature: { current: 38 },
    });
  t.same(parseSmartctlJson(report(true, 0)), {
    passed: true, model: 'WDC WD20PURZ-85GU6Y0', serial: 'WD-WX12A3456789', firmware: '80.00A80', capacityBytes: 2000398934016,
    temperatureC: 38, powerOnHours: 21034, reallocatedSectors: 0, pendingSectors: 3, messages: [],
  });
  t.match(parseSmartctlJson(report(false, 1200)), { passed: false, reallocatedSectors: 1200 });
});

t.test('bad input: clear errors, never a crash', async (t) => {
  t.throws(() => parseSmartctlJson('smartctl: command not found'), SmartError);
  t.throws(() => parseSmartctlJson('{"json_format_version":[2,0]}'), /unsupported smartctl JSON format/);
  await t.rejects(readSmartHealth('sda; reboot'), /not a device path/);
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ json_format_version: [1, 0], ...(typeof v === 'object' && v ? v : { v }) }))), (text) => {
      try {
        const h = parseSmartctlJson(text);
        return h.passed === null || typeof h.passed === 'boolean';
      } catch (e) {
        return e instanceof SmartError;
      }
    }),
    { numRuns: 3000 },
  );
});
