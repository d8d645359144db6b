import t from 'tap';
import { execFileSync } from 'node:child_process';
import { IOR, IOW, IOWR } from '../../../drivers/libc/index.js';
import * as constants from '../../../drivers/v4l2/constants.js';
import { LAYOUTS, layoutFor } from '../../../drivers/v4l2/layouts.js';
import { elfSection, probeSource, runProbe, TARGETS } from '../../../drivers/v4l2/probe.js';
import { CONSTANTS, IOCTLS, STRUCTS, type AbiLayout, type IoctlName } from '../../../drivers/v4l2/spec.js';

function hasCompiler(cc: string): boolean {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const host = TARGETS.find((x) => x.abi === 'x64')!;
const x64Probe = process.arch === 'x64' && hasCompiler('gcc') ? runProbe(host) : undefined;

t.test('the host probe (gcc, linux/videodev2.h) matches the committed x64 table', { skip: !x64Probe && 'needs gcc on x86_64' }, async (t) => {
  const probed = x64Probe!;
  t.same(probed.layout, LAYOUTS.x64, 'layouts.x64.ts is what the headers say');
  const committed = Object.fromEntries(CONSTANTS.map((n) => [n, (constants as Record<string, number>)[n]]));
  t.same(probed.constants, committed, 'constants.ts is what the headers say');
});

t.test('ioctl request numbers printed by the probe', { skip: !x64Probe && 'needs gcc on x86_64' }, async (t) => {
  const io = x64Probe!.layout.ioctls;
  // The macro values, straight from the probe, against the committed table and
  // against the well-known x86_64 numbers (v4l2-ctl -D --verbose prints them).
  const known: Partial<Record<IoctlName, number>> = {
    VIDIOC_QUERYCAP: 0x80685600,
    VIDIOC_S_FMT: 0xc0d05605,
    VIDIOC_G_FMT: 0xc0d05604,
    VIDIOC_REQBUFS: 0xc0145608,
    VIDIOC_QUERYBUF: 0xc0585609,
    VIDIOC_QBUF: 0xc058560f,
    VIDIOC_DQBUF: 0xc0585611,
    VIDIOC_STREAMON: 0x40045612,
    VIDIOC_STREAMOFF: 0x40045613,
    VIDIOC_S_STD: 0x40085618,
    VIDIOC_ENUMINPUT: 0xc050561a,
    VIDIOC_S_EXT_CTRLS: 0xc0205648,
    VIDIOC_DQEVENT: 0x80885659,
  };
  for (const [name, value] of Object.entries(known)) {
    t.equal(io[name as IoctlName] >>> 0, value, `${name} = 0x${value.toString(16)}`);
    t.equal(LAYOUTS.x64.ioctls[name as IoctlName] >>> 0, value, `${name} committed`);
  }
});

// Each request encodes its struct's size: recompute every number of every
// committed table from the struct sizes in the same table with the libc
// _IOC helpers. Catches a table whose sizes and numbers disagree.
const encoding: Record<IoctlName, [dir: 'R' | 'W' | 'WR', nr: number, arg: keyof AbiLayout['structs'] | 'int' | 'std']> = {
  VIDIOC_QUERYCAP: ['R', 0, 'v4l2_capability'],
  VIDIOC_ENUM_FMT: ['WR', 2, 'v4l2_fmtdesc'],
  VIDIOC_G_FMT: ['WR', 4, 'v4l2_format'],
  VIDIOC_S_FMT: ['WR', 5, 'v4l2_format'],
  VIDIOC_REQBUFS: ['WR', 8, 'v4l2_requestbuffers'],
  VIDIOC_QUERYBUF: ['WR', 9, 'v4l2_buffer'],
  VIDIOC_QBUF: ['WR', 15, 'v4l2_buffer'],
  VIDIOC_EXPBUF: ['WR', 16, 'v4l2_exportbuffer'],
  VIDIOC_DQBUF: ['WR', 17, 'v4l2_buffer'],
  VIDIOC_STREAMON: ['W', 18, 'int'],
  VIDIOC_STREAMOFF: ['W', 19, 'int'],
  VIDIOC_G_PARM: ['WR', 21, 'v4l2_streamparm'],
  VIDIOC_S_PARM: ['WR', 22, 'v4l2_streamparm'],
  VIDIOC_G_STD: ['R', 23, 'std'],
  VIDIOC_S_STD: ['W', 24, 'std'],
  VIDIOC_ENUMSTD: ['WR', 25, 'v4l2_standard'],
  VIDIOC_ENUMINPUT: ['WR', 26, 'v4l2_input'],
  VIDIOC_G_CTRL: ['WR', 27, 'v4l2_control'],
  VIDIOC_S_CTRL: ['WR', 28, 'v4l2_control'],
  VIDIOC_QUERYCTRL: ['WR', 36, 'v4l2_queryctrl'],
  VIDIOC_QUERYMENU: ['WR', 37, 'v4l2_querymenu'],
  VIDIOC_G_INPUT: ['R', 38, 'int'],
  VIDIOC_S_INPUT: ['WR', 39, 'int'],
  VIDIOC_TRY_FMT: ['WR', 64, 'v4l2_format'],
  VIDIOC_G_EXT_CTRLS: ['WR', 71, 'v4l2_ext_controls'],
  VIDIOC_S_EXT_CTRLS: ['WR', 72, 'v4l2_ext_controls'],
  VIDIOC_TRY_EXT_CTRLS: ['WR', 73, 'v4l2_ext_controls'],
  VIDIOC_ENCODER_CMD: ['WR', 77, 'v4l2_encoder_cmd'],
  VIDIOC_TRY_ENCODER_CMD: ['WR', 78, 'v4l2_encoder_cmd'],
  VIDIOC_DQEVENT: ['R', 89, 'v4l2_event'],
  VIDIOC_SUBSCRIBE_EVENT: ['W', 90, 'v4l2_event_subscription'],
  VIDIOC_UNSUBSCRIBE_EVENT: ['W', 91, 'v4l2_event_subscription'],
  VIDIOC_QUERYSTD: ['R', 63, 'std'],
};

t.test('every committed ioctl number encodes its struct size', async (t) => {
  t.same(Object.keys(encoding).sort(), [...IOCTLS].sort(), 'every ioctl in spec.ts is checked');
  for (const [abi, layout] of Object.entries(LAYOUTS)) {
    for (const [name, [dir, nr, arg]] of Object.entries(encoding)) {
      const size = arg === 'int' ? 4 : arg === 'std' ? 8 : layout.structs[arg].size;
      const expected = (dir === 'R' ? IOR : dir === 'W' ? IOW : IOWR)('V', nr, size);
      if (layout.ioctls[name as IoctlName] >>> 0 !== expected) t.fail(`${abi} ${name}`);
    }
    t.pass(`${abi}: ${IOCTLS.length} request numbers consistent with its struct sizes`);
  }
});

t.test('the ABIs differ where they must', async (t) => {
  const { x64, arm64, arm } = LAYOUTS;
  const armTime32 = LAYOUTS['arm-time32'];
  t.same(arm64.structs, x64.structs, 'arm64 and x86_64 share every layout (LP64)');
  t.equal(x64.structs.v4l2_buffer.size, 88);
  t.equal(arm.structs.v4l2_buffer.size, 80, 'armhf, 64-bit time_t: 16-byte timeval');
  t.equal(armTime32.structs.v4l2_buffer.size, 68, 'armhf, 32-bit time_t: the kernel v4l2_buffer_time32');
  t.equal(arm.timeBits, 64);
  t.equal(armTime32.timeBits, 32);
  t.not(arm.ioctls.VIDIOC_QBUF, armTime32.ioctls.VIDIOC_QBUF, 'so VIDIOC_QBUF has two numbers on arm');
  t.equal(armTime32.ioctls.VIDIOC_QBUF >>> 0, 0xc044560f, 'VIDIOC_QBUF_TIME32');
  t.not(arm.structs.v4l2_event.size, armTime32.structs.v4l2_event.size, 'v4l2_event carries a timespec too');
  t.equal(arm.structs.v4l2_format.fields.fmt[0], 4, 'armhf: the format union starts at 4 (no 8-byte member)');
  t.equal(x64.structs.v4l2_format.fields.fmt[0], 8);
  t.equal(arm.structs.v4l2_ext_control.size, 20, 'v4l2_ext_control is packed everywhere');
  t.equal(x64.structs.v4l2_ext_control.size, 20);
  t.equal(arm.pointerSize, 4);
});

t.test('layoutFor picks the table by process.arch', async (t) => {
  t.equal(layoutFor('x64'), LAYOUTS.x64);
  t.equal(layoutFor('arm64'), LAYOUTS.arm64);
  t.equal(layoutFor('arm'), LAYOUTS.arm);
  t.equal(layoutFor('arm', 32), LAYOUTS['arm-time32']);
  t.throws(() => layoutFor('mips'), /no V4L2 struct layouts for architecture mips/);
  t.ok(layoutFor(), 'this host has a table');
});

for (const target of TARGETS.filter((x) => x.abi !== 'x64')) {
  const cc = target.cc[0];
  t.test(`the ${target.abi} probe (${cc}, compile only) matches layouts.${target.abi.replace('-time32', '')}.ts`, { skip: !hasCompiler(cc) && `${cc} not installed` }, async (t) => {
    const probed = runProbe(target);
    t.same(probed.layout, LAYOUTS[target.abi]);
  });
}

t.test('probe plumbing', async (t) => {
  const source = probeSource();
  t.match(source, /#include <linux\/videodev2.h>/);
  t.ok(Object.keys(STRUCTS).every((s) => source.includes(`sizeof(struct ${s})`)));
  t.throws(() => elfSection(Buffer.from('not an elf file at all, no'), '.x'), /not an ELF file/);
});
