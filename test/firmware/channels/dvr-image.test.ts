// Picture controls of an analog input: percent of the driver's own range,
// written through the binding to a stand-in kernel with vivid's ranges.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as C from '../../../drivers/v4l2/constants.js';
import { LAYOUTS } from '../../../drivers/v4l2/layouts.js';
import { overrideSys, V4l2Device } from '../../../drivers/v4l2/index.js';
import { deviceControls } from '../../../firmware/channels/dvr-capture.js';
import { applyImageSettings, NO_IMAGE_SETTINGS, percentToValue, valueToPercent } from '../../../firmware/channels/dvr-image.js';
import { FakeKernel } from '../../drivers/v4l2/fixtures/fake-kernel.js';

t.test('a percent is the same place in every range', async (t) => {
  const vivid = { minimum: 0, maximum: 255, step: 1 };
  t.same([0, 25, 50, 75, 100].map((p) => percentToValue(p, vivid)), [0, 64, 128, 191, 255]);
  const hue = { minimum: -128, maximum: 127, step: 1 };
  t.same([0, 50, 100].map((p) => percentToValue(p, hue)), [-128, 0, 127], 'a signed range: 50 % is its middle');
  const bttv = { minimum: 0, maximum: 65535, step: 256 };
  t.same([0, 50, 100].map((p) => percentToValue(p, bttv)), [0, 32768, 65280], 'on the step grid, never past the maximum');
  t.equal(percentToValue(50, { minimum: 0, maximum: 31, step: 1 }), 16, 'a 5-bit register rounds to the nearest step');
  t.equal(percentToValue(33, { minimum: 10, maximum: 20, step: 5 }), 15);
  t.equal(percentToValue(140, vivid), 255, 'clamped');
  t.equal(percentToValue(70, { minimum: 7, maximum: 7, step: 0 }), 7, 'a one-value range');
  t.same([0, 64, 128, 255].map((v) => valueToPercent(v, vivid)), [0, 25, 50, 100]);
});

t.test('through the binding: ranges from QUERYCTRL, values by S_CTRL, a missing control left out', { skip: LAYOUTS.x64.pointerSize !== 8 && 'x64 only' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvr-image-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = join(dir, 'video0');
  writeFileSync(node, '');
  const k = new FakeKernel();
  // vivid's user controls; no sharpness.
  k.controls = new Map([
    [C.V4L2_CID_BRIGHTNESS, 128],
    [C.V4L2_CID_CONTRAST, 200],
    [C.V4L2_CID_SATURATION, 128],
    [C.V4L2_CID_HUE, 0],
  ]);
  k.ranges.set(C.V4L2_CID_BRIGHTNESS, { name: 'Brightness', minimum: 0, maximum: 255, step: 1, defaultValue: 128 });
  k.ranges.set(C.V4L2_CID_CONTRAST, { name: 'Contrast', minimum: 0, maximum: 255, step: 1, defaultValue: 128 });
  k.ranges.set(C.V4L2_CID_SATURATION, { name: 'Saturation', minimum: 0, maximum: 255, step: 1, defaultValue: 128, flags: C.V4L2_CTRL_FLAG_READ_ONLY });
  k.ranges.set(C.V4L2_CID_HUE, { name: 'Hue', minimum: -128, maximum: 128, step: 1, defaultValue: 0 });
  const restore = overrideSys({ ioctlBuf: k.ioctlBuf, mmap: (length: number) => k.mmap(length, 0), munmap: () => {} });
  t.teardown(() => {
    restore();
    k.dispose();
  });
  const dev = V4l2Device.open(node);
  t.teardown(() => dev.close());
  const controls = deviceControls(dev);

  const r = applyImageSettings(controls, { brightness: 100, contrast: null, saturation: 30, hue: 25, sharpness: 70 });
  t.same(r.set, { brightness: 255, contrast: 128, hue: -64 }, 'contrast back to the driver default');
  t.same(r.missing, ['saturation', 'sharpness'], 'read-only and absent controls are not written');
  t.same(r.failed, []);
  t.same([...k.controls.values()], [255, 128, 128, 0 - 64], 'the values are in the driver');

  k.calls.length = 0;
  const only = applyImageSettings(controls, { ...NO_IMAGE_SETTINGS, brightness: 0 }, ['brightness']);
  t.same(only.set, { brightness: 0 });
  t.same(k.calls, ['VIDIOC_QUERYCTRL', 'VIDIOC_S_CTRL'], 'only the control asked for');
  t.same(applyImageSettings(controls, NO_IMAGE_SETTINGS).missing, [], 'nothing asked of the absent ones: nothing to report');
  t.same(applyImageSettings(undefined, { ...NO_IMAGE_SETTINGS, hue: 50 }).missing, ['hue'], 'a card with no controls at all');
});
