import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fourcc,
  fourccToString,
  M2mDevice,
  V4l2Device,
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
  V4L2_CID_MPEG_VIDEO_BITRATE,
  V4L2_IN_ST_NO_COLOR,
  V4L2_IN_ST_NO_H_LOCK,
  V4L2_IN_ST_NO_SIGNAL,
  V4L2_PIX_FMT_H264,
  V4L2_PIX_FMT_YUYV,
  V4L2_STD_NTSC,
  V4L2_STD_PAL,
  VIDEO_LOSS_STATUS,
  LAYOUTS,
  pollAsync,
} from '../../../drivers/v4l2/index.js';
import { POLLIN, POLLOUT } from '../../../drivers/libc/index.js';
import { getS, getString, getU, NativeBlock, set, setString } from '../../../drivers/v4l2/struct.js';

const dir = mkdtempSync(join(tmpdir(), 'v4l2-dev-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const regular = join(dir, 'video0');
writeFileSync(regular, '');

t.test('opening a missing node: SysError ENOENT naming the path', async (t) => {
  const path = join(dir, 'video99');
  t.throws(() => V4l2Device.open(path), {
    name: 'SysError',
    code: 'ENOENT',
    syscall: 'open',
    path,
    message: `open on ${path}: ENOENT (No such file or directory)`,
  });
  t.throws(() => M2mDevice.open(path), { code: 'ENOENT', path });
});

t.test('V4L2 ioctls on a regular file: ENOTTY with the ioctl named', async (t) => {
  const dev = V4l2Device.open(regular);
  t.teardown(() => dev.close());
  t.equal(dev.path, regular);
  t.ok(dev.fd >= 0);
  t.throws(() => dev.querycap(), {
    name: 'SysError',
    code: 'ENOTTY',
    syscall: 'ioctl',
    path: regular,
    message: `ioctl(VIDIOC_QUERYCAP) on ${regular}: ENOTTY (Inappropriate ioctl for device)`,
  });
  // Enumerations end on EINVAL, but any other error must surface.
  const cases: [string, () => unknown][] = [
    ['VIDIOC_ENUMINPUT', () => dev.enumInputs()],
    ['VIDIOC_G_INPUT', () => dev.getInput()],
    ['VIDIOC_S_INPUT', () => dev.setInput(0)],
    ['VIDIOC_ENUMSTD', () => dev.enumStandards()],
    ['VIDIOC_S_STD', () => dev.setStandard(V4L2_STD_PAL)],
    ['VIDIOC_G_STD', () => dev.getStandard()],
    ['VIDIOC_QUERYSTD', () => dev.queryStandard()],
    ['VIDIOC_ENUM_FMT', () => dev.enumFormats(V4L2_BUF_TYPE_VIDEO_CAPTURE)],
    ['VIDIOC_G_FMT', () => dev.getFormat(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)],
    ['VIDIOC_G_FMT', () => dev.setFormat(V4L2_BUF_TYPE_VIDEO_CAPTURE, { width: 720 })],
    ['VIDIOC_QUERYCTRL', () => dev.listControls()],
    ['VIDIOC_G_CTRL', () => dev.getControl(1)],
    ['VIDIOC_S_EXT_CTRLS', () => dev.setExtControls([{ id: V4L2_CID_MPEG_VIDEO_BITRATE, value: 1_000_000 }])],
    ['VIDIOC_G_EXT_CTRLS', () => dev.getExtControls([V4L2_CID_MPEG_VIDEO_BITRATE])],
    ['VIDIOC_G_PARM', () => dev.getParm(V4L2_BUF_TYPE_VIDEO_CAPTURE)],
    ['VIDIOC_S_PARM', () => dev.setTimePerFrame(V4L2_BUF_TYPE_VIDEO_CAPTURE, { numerator: 1, denominator: 25 })],
    ['VIDIOC_ENCODER_CMD', () => dev.encoderCommand(1)],
    ['VIDIOC_SUBSCRIBE_EVENT', () => dev.subscribeEvent(5)],
    ['VIDIOC_DQEVENT', () => dev.dequeueEvent()],
    ['VIDIOC_REQBUFS', () => dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE).request(4)],
    ['VIDIOC_QUERYBUF', () => dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE).query(0)],
    ['VIDIOC_QBUF', () => dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE).queue(0)],
    ['VIDIOC_DQBUF', () => dev.queue(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE).dequeue()],
    ['VIDIOC_STREAMON', () => dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE).streamOn()],
    ['VIDIOC_EXPBUF', () => dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE).exportBuffer(0)],
  ];
  for (const [name, call] of cases) {
    t.throws(call, { code: 'ENOTTY', message: new RegExp(`^ioctl\\(${name}\\) on `) }, name);
  }
  t.equal(dev.tryEncoderCommand(1), false, 'TRY_ENCODER_CMD answers false when the driver has no encoder commands');
});

t.test('M2mDevice.open on a non-M2M file closes what it opened', async (t) => {
  t.throws(() => M2mDevice.open(regular), { code: 'ENOTTY', message: /VIDIOC_QUERYCAP/ });
});

t.test('close() is idempotent and later calls say the node is closed', async (t) => {
  const dev = V4l2Device.open(regular);
  const q = dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE);
  dev.close();
  t.equal(dev.isOpen, false);
  t.doesNotThrow(() => dev.close());
  t.doesNotThrow(() => q.dispose(), 'queues were disposed by close()');
  t.throws(() => dev.querycap(), { message: `${regular} is closed` });
});

t.test('fourcc helpers and video-loss mask', async (t) => {
  t.equal(fourcc('YUYV'), V4L2_PIX_FMT_YUYV);
  t.equal(fourcc('H264'), V4L2_PIX_FMT_H264);
  t.equal(fourccToString(V4L2_PIX_FMT_YUYV), 'YUYV');
  t.equal(fourccToString(fourcc('Y10')), 'Y10');
  t.equal(VIDEO_LOSS_STATUS, V4L2_IN_ST_NO_SIGNAL | V4L2_IN_ST_NO_COLOR | V4L2_IN_ST_NO_H_LOCK);
  t.equal(V4L2_STD_PAL & V4L2_STD_NTSC, 0);
});

t.test('struct field helpers', async (t) => {
  const b = Buffer.alloc(32);
  set(b, [0, 4], -1);
  t.equal(getU(b, [0, 4]), 0xffffffff);
  t.equal(getS(b, [0, 4]), -1);
  set(b, [8, 8], 0x1_0000_0002);
  t.equal(getU(b, [8, 8]), 0x1_0000_0002);
  set(b, [8, 8], 0xfedcba9876543210n);
  t.equal(b.readBigUInt64LE(8), 0xfedcba9876543210n, 'pointers as BigInt');
  set(b, [16, 2], 0x1234);
  set(b, [18, 1], 0x56);
  t.equal(getU(b, [16, 2]), 0x1234);
  t.equal(getU(b, [18, 1]), 0x56);
  t.equal(getS(b, [18, 1]), 0x56);
  setString(b, [20, 8], 'PAL-BGHIJKL');
  t.equal(getString(b, [20, 8]), 'PAL-BGH', 'truncated to leave the NUL');
  t.equal(b[27], 0);
  t.throws(() => getU(b, [0, 3]), /not an integer/);
  t.throws(() => set(b, [0, 16], 1), /not an integer/);
  const n = new NativeBlock(16);
  t.equal(typeof n.ptr, 'bigint');
  t.same([...n.buf], new Array(16).fill(0));
  n.free();
  n.free();
});

t.test('32-bit ARM: buffer ioctls fall back to the time32 layout on ENOTTY', async (t) => {
  // A kernel before 5.6 rejects the 64-bit-time VIDIOC_QUERYBUF number with
  // ENOTTY; a regular file rejects both, which shows the retry happened.
  const dev = V4l2Device.open(regular, { layout: LAYOUTS.arm });
  t.teardown(() => dev.close());
  const q = dev.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE);
  t.equal(q.io.layout.abi, 'arm');
  t.throws(() => q.query(0), { code: 'ENOTTY', message: /VIDIOC_QUERYBUF/ });
  t.equal(q.io.layout.abi, 'arm-time32', 'switched after ENOTTY');
  const x64 = V4l2Device.open(regular, { layout: LAYOUTS.x64 });
  t.teardown(() => x64.close());
  const q64 = x64.queue(V4L2_BUF_TYPE_VIDEO_CAPTURE);
  t.throws(() => q64.query(0), { code: 'ENOTTY' });
  t.equal(q64.io.layout.abi, 'x64', 'no fallback where there is no other layout');
});

t.test('pollAsync waits on the thread pool; a regular file is always ready', async (t) => {
  const dev = V4l2Device.open(regular);
  t.teardown(() => dev.close());
  t.equal((await pollAsync(dev.fd, POLLIN | POLLOUT, 1000)) & (POLLIN | POLLOUT), POLLIN | POLLOUT);
});
