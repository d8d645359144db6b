// The binding's logic against a JavaScript stand-in for the kernel
// (fixtures/fake-kernel.ts), mocked in place of drivers/libc's ioctlBuf and
// mmap. Offsets are not what this checks (layouts.test.ts and vivid.test.ts
// do that); enumeration, format, control, buffer and M2M logic is.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as C from '../../../drivers/v4l2/constants.js';
import * as V4l2 from '../../../drivers/v4l2/index.js';
import { LAYOUTS } from '../../../drivers/v4l2/layouts.js';
import { FakeKernel } from './fixtures/fake-kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'v4l2-fake-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const node = join(dir, 'video0');
writeFileSync(node, '');

async function load(t: Test, kernel: FakeKernel): Promise<typeof V4l2> {
  const restore = V4l2.overrideSys({
    ioctlBuf: kernel.ioctlBuf,
    mmap: (length: number, _prot: number, _flags: number, _fd: number, offset: number | bigint = 0) =>
      kernel.mmap(length, Number(offset)),
    munmap: () => {},
  });
  t.teardown(() => {
    restore();
    kernel.dispose();
  });
  return V4l2;
}

t.test('inputs, standards, formats, frame rate', { skip: LAYOUTS.x64.pointerSize !== 8 && 'x64 only' }, async (t) => {
  const k = new FakeKernel();
  const v = await load(t, k);
  const dev = v.V4l2Device.open(node);
  t.teardown(() => dev.close());
  t.same(dev.querycap(), {
    driver: 'fake',
    card: 'Fake Card',
    busInfo: 'platform:fake',
    version: '6.1.7',
    capabilities: (C.V4L2_CAP_VIDEO_M2M | C.V4L2_CAP_STREAMING | C.V4L2_CAP_DEVICE_CAPS) >>> 0,
    deviceCaps: C.V4L2_CAP_VIDEO_M2M | C.V4L2_CAP_STREAMING,
  });
  const [input, ...more] = dev.enumInputs();
  t.same(more, [], 'enumeration ends at EINVAL');
  t.match(input, { index: 0, name: 'Composite 0', std: C.V4L2_STD_PAL | C.V4L2_STD_NTSC, videoLoss: false });
  k.status = C.V4L2_IN_ST_NO_SIGNAL;
  t.equal(dev.inputStatus(), C.V4L2_IN_ST_NO_SIGNAL);
  t.equal(dev.enumInput(0)?.videoLoss, true);
  t.equal(dev.queryStandard(), C.V4L2_STD_UNKNOWN, 'QUERYSTD finds nothing without signal');
  k.status = C.V4L2_IN_ST_NO_H_LOCK;
  t.equal(dev.enumInput(0)?.videoLoss, true, 'no horizontal lock is video loss too');
  k.status = 0;
  t.equal(dev.enumInput(1), null);
  dev.setInput(0);
  t.equal(dev.getInput(), 0);
  t.throws(() => dev.setInput(3), { code: 'EINVAL', message: /VIDIOC_S_INPUT/ });
  t.same(
    dev.enumStandards().map((s) => [s.name, s.id, s.frameperiod, s.framelines]),
    [
      ['PAL', C.V4L2_STD_PAL, { numerator: 1, denominator: 25 }, 625],
      ['NTSC', C.V4L2_STD_NTSC, { numerator: 1001, denominator: 30000 }, 525],
    ],
  );
  dev.setStandard(C.V4L2_STD_NTSC);
  t.equal(dev.getStandard(), C.V4L2_STD_NTSC);
  t.equal(dev.queryStandard(), C.V4L2_STD_NTSC);
  t.same(
    dev.enumFormats(C.V4L2_BUF_TYPE_VIDEO_CAPTURE).map((f) => [f.fourcc, f.compressed]),
    [
      ['YUYV', false],
      ['NV12', false],
    ],
  );
  const fmt = dev.setFormat(C.V4L2_BUF_TYPE_VIDEO_CAPTURE, { width: 721, height: 576, pixelformat: C.V4L2_PIX_FMT_YUYV });
  t.match(fmt, { width: 720, height: 576, planes: [{ bytesperline: 1440, sizeimage: 720 * 576 * 2 }] }, 'driver-adjusted width');
  t.match(dev.tryFormat(C.V4L2_BUF_TYPE_VIDEO_CAPTURE, { width: 4000, height: 4000 }), { width: 1920, height: 1080 });
  t.equal(dev.getFormat(C.V4L2_BUF_TYPE_VIDEO_CAPTURE).width, 720, 'TRY_FMT changed nothing');
  const mp = dev.setFormat(C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, {
    width: 640,
    height: 480,
    pixelformat: C.V4L2_PIX_FMT_NV12M,
    planes: [{ bytesperline: 640 }, { bytesperline: 640 }],
  });
  t.equal(mp.planes.length, 2, 'multi-planar format with two planes');
  t.equal(mp.planes[0].sizeimage + mp.planes[1].sizeimage, 640 * 480 * 2);
  t.same(dev.setTimePerFrame(C.V4L2_BUF_TYPE_VIDEO_CAPTURE, { numerator: 1001, denominator: 30000 }).timeperframe, {
    numerator: 1001,
    denominator: 30000,
  });
  t.match(dev.getParm(C.V4L2_BUF_TYPE_VIDEO_OUTPUT), { capability: C.V4L2_CAP_TIMEPERFRAME });
});

t.test('controls, menus and extended controls', async (t) => {
  const k = new FakeKernel();
  const v = await load(t, k);
  const dev = v.V4l2Device.open(node);
  t.teardown(() => dev.close());
  const list = dev.listControls();
  t.same(
    list.map((c) => c.name),
    ['Brightness', 'Video Bitrate', 'H264 Profile'],
    'NEXT_CTRL walks every control',
  );
  t.equal(dev.findControl('video bitrate')?.id, C.V4L2_CID_MPEG_VIDEO_BITRATE);
  t.equal(dev.findControl('nope'), null);
  t.equal(dev.queryControl(0x12345), null);
  const profile = dev.queryControl(C.V4L2_CID_MPEG_VIDEO_H264_PROFILE)!;
  t.same(dev.queryMenu(profile), [
    { index: 0, name: 'Baseline' },
    { index: 2, name: 'Main' },
  ], 'menu holes skipped');
  t.same(dev.queryMenu(dev.queryControl(C.V4L2_CID_BRIGHTNESS)!), [], 'not a menu');
  t.equal(dev.setControl(C.V4L2_CID_BRIGHTNESS, -100), -5, 'S_CTRL returns the clamped value');
  t.equal(dev.getControl(C.V4L2_CID_BRIGHTNESS), -5);
  dev.setExtControls([
    { id: C.V4L2_CID_MPEG_VIDEO_BITRATE, value: 2_000_000 },
    { id: C.V4L2_CID_MPEG_VIDEO_H264_PROFILE, value: 2 },
  ]);
  t.same(
    dev.getExtControls([C.V4L2_CID_MPEG_VIDEO_BITRATE, C.V4L2_CID_MPEG_VIDEO_H264_PROFILE]).map((c) => c.value),
    [2_000_000, 2],
  );
  t.same(dev.tryExtControls([{ id: C.V4L2_CID_MPEG_VIDEO_BITRATE, value: 5n }])[0].value64, 5n, 'int64 through value64');
  t.throws(
    () =>
      dev.setExtControls([
        { id: C.V4L2_CID_MPEG_VIDEO_BITRATE, value: 1 },
        { id: C.V4L2_CID_MPEG_VIDEO_GOP_SIZE, value: 50 },
      ]),
    {
      code: 'EINVAL',
      controlId: C.V4L2_CID_MPEG_VIDEO_GOP_SIZE,
      message: `ioctl(VIDIOC_S_EXT_CTRLS control 0x${C.V4L2_CID_MPEG_VIDEO_GOP_SIZE.toString(16)}) on ${node}: EINVAL (Invalid argument)`,
    },
    'the refused control is named',
  );
  t.equal(dev.getExtControls([C.V4L2_CID_MPEG_VIDEO_BITRATE])[0].value, 2_000_000, 'all or nothing');
  t.doesNotThrow(() => dev.setExtControls([{ id: C.V4L2_CID_MPEG_VIDEO_BITRATE, value: 'text' }]), 'string controls pass a pointer');
});

for (const mplane of [false, true]) {
  t.test(`M2M encode and drain (${mplane ? 'multi' : 'single'}-planar)`, async (t) => {
    const k = new FakeKernel();
    k.mplane = mplane;
    const v = await load(t, k);
    const enc = v.M2mDevice.open(node);
    t.equal(enc.mplane, mplane);
    const formats = enc.configure({
      width: 640,
      height: 480,
      rawFormat: C.V4L2_PIX_FMT_YUYV,
      codedFormat: C.V4L2_PIX_FMT_H264,
      timePerFrame: { numerator: 1, denominator: 25 },
      controls: [{ id: C.V4L2_CID_MPEG_VIDEO_BITRATE, value: 4_000_000 }],
      outputBuffers: 2,
      captureBuffers: 3,
    });
    t.equal(formats.capture.pixelformat, C.V4L2_PIX_FMT_H264);
    t.equal(k.controls.get(C.V4L2_CID_MPEG_VIDEO_BITRATE), 4_000_000);
    t.equal(enc.output.count, 2);
    t.equal(enc.capture.count, 3);
    t.equal(enc.dequeueCoded(), null, 'nothing before start');
    enc.start();
    const coded: V4l2.CodedFrame[] = [];
    let sent = 0;
    for (let spin = 0; spin < 100 && !enc.ended; spin++) {
      const input = sent < 5 ? enc.acquireInput() : null;
      if (input) {
        input.planes[0].data.fill(sent);
        enc.queueInput(input.index, { bytesused: 1000, timestampUs: sent * 40_000 });
        if (++sent === 5) enc.drain();
        continue;
      }
      const c = enc.dequeueCoded();
      if (c && c !== 'eos') {
        coded.push(c);
        c.release();
      }
    }
    t.equal(coded.length, 6, 'five frames and the empty LAST buffer');
    t.same(coded.map((c) => c.timestampUs).slice(0, 5), [0, 40_000, 80_000, 120_000, 160_000]);
    t.same(coded.map((c) => c.keyframe), [true, false, false, false, false, false]);
    t.same(coded.map((c) => c.last), [false, false, false, false, false, true]);
    t.equal(enc.dequeueCoded(), 'eos');
    t.match(await enc.wait(100), { coded: true, input: true }, 'wait(): a regular file polls ready');
    t.match(enc.dequeueEvent(), { type: C.V4L2_EVENT_EOS, sequence: 7, timestampNs: 12_000_000_345n });
    t.equal(enc.dequeueEvent(), null);
    t.equal(enc.acquireInput()?.index !== undefined, true, 'consumed inputs come back');
    t.equal(enc.capture.exportBuffer(1), 101, 'EXPBUF returns the DMABUF fd');
    enc.drain(); // second drain is a no-op
    enc.close();
    t.ok(k.calls.includes('VIDIOC_REQBUFS'));
  });
}

t.test('M2M with DMABUF input and a driver that refuses S_PARM', async (t) => {
  const k = new FakeKernel();
  k.rejectRequests.add(k.layout.ioctls.VIDIOC_S_PARM >>> 0);
  const v = await load(t, k);
  const enc = v.M2mDevice.open(node);
  enc.configure({
    width: 320,
    height: 240,
    rawFormat: C.V4L2_PIX_FMT_NV12,
    codedFormat: C.V4L2_PIX_FMT_H264,
    timePerFrame: { numerator: 1, denominator: 30 },
    outputMemory: C.V4L2_MEMORY_DMABUF,
  });
  enc.start();
  const slot = enc.acquireInput()!;
  t.same(slot.planes, [], 'DMABUF inputs have no mapping');
  enc.queueDmabuf(slot.index, [42], { bytesused: 100, timestampUs: 5 });
  const c = enc.dequeueCoded();
  t.ok(c && c !== 'eos' && c.timestampUs === 5);
  enc.close(); // frees the buffers (REQBUFS 0): a second open may configure
  const mm = v.M2mDevice.open(node);
  t.throws(() => mm.output, /configure\(\) first/);
  t.throws(() => mm.capture, /configure\(\) first/);
  mm.configure({ width: 320, height: 240, rawFormat: C.V4L2_PIX_FMT_NV12, codedFormat: C.V4L2_PIX_FMT_H264 });
  t.throws(() => mm.queueDmabuf(0, [1]), /outputMemory DMABUF/);
  mm.close();
});

t.test('BufferQueue: map, queue, dequeue, pin across dispose', async (t) => {
  const k = new FakeKernel();
  const v = await load(t, k);
  const dev = v.V4l2Device.open(node);
  const q = dev.queue(C.V4L2_BUF_TYPE_VIDEO_OUTPUT);
  t.equal(q.request(3), 3);
  t.equal(q.capabilities & C.V4L2_BUF_CAP_SUPPORTS_DMABUF, C.V4L2_BUF_CAP_SUPPORTS_DMABUF);
  const bufs = q.map();
  t.equal(bufs.length, 3);
  t.equal(bufs[0].planes[0].length, 640 * 480 * 2);
  q.queue(0, { bytesused: 10 });
  t.equal(q.query(0).flags & C.V4L2_BUF_FLAG_QUEUED, C.V4L2_BUF_FLAG_QUEUED);
  t.throws(() => q.queue(0), { code: 'EINVAL' }, 'double QBUF refused by the driver');
  t.equal(q.dequeue(), null, 'EAGAIN is null');
  q.streamOn();
  t.equal(q.streaming, true);
  q.pin(1);
  dev.close();
  t.equal(q.streaming, false, 'close() stops streaming');
  q.unpin(1);
  t.throws(() => dev.queue(C.V4L2_BUF_TYPE_VIDEO_OUTPUT), /is closed/);
  const other = v.V4l2Device.open(node);
  const cap = other.queue(C.V4L2_BUF_TYPE_VIDEO_CAPTURE, C.V4L2_MEMORY_DMABUF);
  cap.request(1);
  t.throws(() => cap.map(), /only MMAP buffers can be mapped/);
  other.close();
});
