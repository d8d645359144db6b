import t from 'tap';
import { createRequire } from 'node:module';
import { IO, IOC, IOR, IOW, IOWR } from '../../../drivers/libc/index.js';

// Reference values from kernel headers, compiled for x86_64/arm64.
t.test('_IOC encodings match the kernel', async (t) => {
  t.equal(IOR('V', 0, 104), 0x80685600, 'VIDIOC_QUERYCAP');
  t.equal(IOW('V', 18, 4), 0x40045612, 'VIDIOC_STREAMON');
  t.equal(IOWR('V', 5, 208), 0xc0d05605, 'VIDIOC_S_FMT (64-bit struct size)');
  t.equal(IO('V', 70), 0x5646, 'VIDIOC_LOG_STATUS');
  t.equal(IOR('W', 5, 4), 0x80045705, 'WDIOC_KEEPALIVE');
  t.equal(IOWR('W', 6, 4), 0xc0045706, 'WDIOC_SETTIMEOUT');
  t.equal(IOR('W', 7, 4), 0x80045707, 'WDIOC_GETTIMEOUT');
  t.equal(IOR(0xb4, 0x01, 68), 0x8044b401, 'GPIO_GET_CHIPINFO_IOCTL, numeric type');
  t.equal(IOC(3, 'd', 0xb2, 32), 0xc02064b2, 'DRM_IOCTL_MODE_CREATE_DUMB, explicit dir');
});

t.test('values stay unsigned', async (t) => {
  t.ok(IOR('V', 0, 104) > 0);
  t.ok(IOWR('W', 6, 4) > 0);
});

t.test('out-of-range fields are rejected instead of silently overlapping', async (t) => {
  t.throws(() => IOR('V', 256, 4), RangeError);
  t.throws(() => IOR('V', 0, 1 << 14), RangeError);
  t.throws(() => IOR('VV', 0, 4), RangeError);
  t.throws(() => IOR(0x100, 0, 4), RangeError);
});

t.test('importing the drivers does not load koffi (only calling them does)', async (t) => {
  const require = createRequire(import.meta.url);
  t.equal(require.cache[require.resolve('koffi')], undefined);
});
