// The committed table (drivers/gpio/layout.ts) against linux/gpio.h as the C
// compiler of each target ABI lays it out: the probe is compiled (never run)
// for x64, arm64 and 32-bit arm and its numbers read back from the object.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { IOR, IOWR } from '../../../drivers/libc/index.js';
import { LAYOUT } from '../../../drivers/gpio/layout.js';
import { probeSource, runProbe, TARGETS } from '../../../drivers/gpio/probe.js';
import type { IoctlName, StructName } from '../../../drivers/gpio/spec.js';

function hasCompiler(cc: string): boolean {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

for (const target of TARGETS) {
  const cc = target.cc[0];
  const why = hasCompiler(cc) ? false : `${cc} is not installed (gcc-aarch64-linux-gnu / gcc-arm-linux-gnueabihf)`;
  t.test(`${target.abi}: the probe compiled by ${cc} matches layout.ts`, { skip: why }, async (t) => {
    const probed = runProbe(target);
    t.same(probed.structs, LAYOUT.structs, 'struct sizes, alignments, field offsets and sizes');
    t.same(probed.ioctls, LAYOUT.ioctls, 'ioctl request numbers');
    t.same(probed.constants, LAYOUT.constants, 'flag and attribute constants');
  });
}

t.test('the sizes the binding is built on', async (t) => {
  const s = LAYOUT.structs;
  t.equal(s.gpio_v2_line_event.size, 48, 'struct gpio_v2_line_event is 48 bytes');
  t.equal(s.gpiochip_info.size, 68);
  t.equal(s.gpio_v2_line_request.size, 592);
  t.equal(s.gpio_v2_line_info.size, 256);
  t.equal(s.gpio_v2_line_config.size, 272);
  t.equal(s.gpio_v2_line_values.size, 16);
  // The union of gpio_v2_line_attribute: flags, values and debounce share offset 8.
  t.same(s.gpio_v2_line_attribute.fields.debounce_period_us, [8, 4]);
  t.same(s.gpio_v2_line_attribute.fields.flags, [8, 8]);
});

t.test('ioctl numbers agree with the struct sizes (_IOR/_IOWR of type 0xB4)', async (t) => {
  const s = LAYOUT.structs;
  const expect: Record<IoctlName, [dir: 'R' | 'WR', nr: number, arg: StructName]> = {
    GPIO_GET_CHIPINFO_IOCTL: ['R', 0x01, 'gpiochip_info'],
    GPIO_V2_GET_LINEINFO_IOCTL: ['WR', 0x05, 'gpio_v2_line_info'],
    GPIO_V2_GET_LINE_IOCTL: ['WR', 0x07, 'gpio_v2_line_request'],
    GPIO_V2_LINE_SET_CONFIG_IOCTL: ['WR', 0x0d, 'gpio_v2_line_config'],
    GPIO_V2_LINE_GET_VALUES_IOCTL: ['WR', 0x0e, 'gpio_v2_line_values'],
    GPIO_V2_LINE_SET_VALUES_IOCTL: ['WR', 0x0f, 'gpio_v2_line_values'],
  };
  for (const [name, [dir, nr, arg]] of Object.entries(expect)) {
    const n = (dir === 'R' ? IOR : IOWR)(0xb4, nr, s[arg].size);
    t.equal(LAYOUT.ioctls[name as IoctlName], n, `${name} = 0x${n.toString(16)}`);
  }
  // As libgpiod and strace print them on x86_64.
  t.equal(LAYOUT.ioctls.GPIO_GET_CHIPINFO_IOCTL, 0x8044b401);
  t.equal(LAYOUT.ioctls.GPIO_V2_GET_LINE_IOCTL, 0xc250b407);
});

t.test('the probe source names every field it measures', async (t) => {
  const src = probeSource();
  t.match(src, /#include <linux\/gpio\.h>/);
  t.match(src, /offsetof\(struct gpio_v2_line_event, line_seqno\)/);
  t.match(src, /GPIO_V2_LINE_ATTR_ID_DEBOUNCE/);
});

t.test('a compiler that fails makes the probe throw, not return numbers', async (t) => {
  t.throws(() => runProbe({ abi: 'x64', cc: ['false'] }));
});
