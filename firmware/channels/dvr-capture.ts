// Opening an analog input for a DVR channel: the V4L2 node, its input, the
// video standard (auto-detected or set), a raw format the encoders take, and
// a CaptureStream. Everything device-specific a DVR channel needs is behind
// CaptureHandle, so tests can put a simulated driver in its place.
import {
  CaptureStream,
  fourccToString,
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
  V4L2_CAP_VIDEO_CAPTURE,
  V4L2_CAP_VIDEO_CAPTURE_MPLANE,
  V4L2_PIX_FMT_NV12,
  V4L2_PIX_FMT_YUV420,
  V4L2_PIX_FMT_YUYV,
  V4L2_STD_NTSC,
  V4L2_STD_PAL,
  V4l2Device,
} from '../../drivers/v4l2/index.js';
import type { RawFormat } from '../../drivers/encoder/index.js';
import type { CaptureControls } from './dvr-image.js';
import { SourceError } from './source.js';

export type VideoStandard = 'auto' | 'pal' | 'ntsc';

export interface CaptureRequest {
  device: string;
  input: number;
  standard: VideoStandard;
  /** Wanted picture size; default 704 x (576 PAL | 480 NTSC), the D1 of DVRs. The driver may adjust. */
  width?: number;
  height?: number;
  buffers?: number;
}

export interface CaptureGeometry {
  width: number;
  height: number;
  format: RawFormat;
  /** Bytes per line of the first plane. */
  bytesperline: number;
  /** Bytes a full frame must have. */
  frameBytes: number;
  /** Frames per second from the standard (25, 30000/1001). */
  fps: { num: number; den: number };
  standard: 'pal' | 'ntsc' | 'other';
}

/** What a DVR channel needs of an open capture input. */
export interface CaptureHandle {
  readonly stream: CaptureStream;
  readonly geometry: CaptureGeometry;
  /** V4L2_IN_ST_* of the input now (an ioctl: call it at most a few times a second). */
  inputStatus(): number;
  /**
   * The input's picture controls, on the node the capture streams from
   * (its own V4l2Device: the capture worker only queues buffers on that fd),
   * so they change while it streams. Absent: the card has none.
   */
  readonly controls?: CaptureControls;
  /** Stops the stream and closes the node. */
  close(): Promise<void>;
}

export type CaptureOpener = (req: CaptureRequest) => Promise<CaptureHandle>;

/** Raw formats the encoders take, best first (NV12 and YU12 go to x264 without conversion). */
const PREFERRED: [number, RawFormat][] = [
  [V4L2_PIX_FMT_NV12, 'nv12'],
  [V4L2_PIX_FMT_YUV420, 'yuv420p'],
  [V4L2_PIX_FMT_YUYV, 'yuyv'],
];

/** Bytes of a frame in a single-plane buffer at this pitch. */
export function frameBytes(format: RawFormat, bytesperline: number, height: number): number {
  return format === 'yuyv' ? bytesperline * height : (bytesperline * height * 3) / 2;
}

/** Errors that mean "no such device / in use": the state shows unreachable, and the channel retries. */
function deviceError(err: unknown, what: string): Error {
  const e = err as { code?: string; message?: string };
  const kind = /^(ENOENT|ENODEV|ENXIO|EBUSY|EACCES|EIO)$/.test(e?.code ?? '') ? 'unreachable' : 'protocol';
  const hint = e?.code === 'EBUSY' ? ' (the device is in use by another process or channel)' : '';
  return Object.assign(new SourceError(`${what}: ${e?.message ?? String(err)}${hint}`, kind), { code: e?.code });
}

/** A node's controls as the DVR channel uses them (QUERYCTRL, S_CTRL). */
export function deviceControls(dev: V4l2Device): CaptureControls {
  return { query: (id) => dev.queryControl(id), set: (id, value) => dev.setControl(id, value) };
}

/** The real thing: a V4L2 capture node. */
export const openV4l2Capture: CaptureOpener = async (req) => {
  let dev: V4l2Device;
  try {
    dev = V4l2Device.open(req.device);
  } catch (err) {
    throw deviceError(err, `cannot open ${req.device}`);
  }
  try {
    const caps = dev.querycap().deviceCaps;
    if (!(caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE))) {
      throw new SourceError(`${req.device} is not a video capture device`, 'protocol');
    }
    const type = caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
    const input = dev.enumInput(req.input);
    if (!input) throw new SourceError(`${req.device} has no input ${req.input}`, 'protocol');
    dev.setInput(req.input);
    let standard: CaptureGeometry['standard'] = 'other';
    if (input.std !== 0) {
      let std = req.standard === 'pal' ? V4L2_STD_PAL : req.standard === 'ntsc' ? V4L2_STD_NTSC : 0;
      if (req.standard === 'auto') {
        // QUERYSTD senses the signal; with none (or no support) keep what is set.
        let sensed = 0;
        try {
          sensed = dev.queryStandard();
        } catch {
          sensed = 0;
        }
        std = sensed & V4L2_STD_PAL ? V4L2_STD_PAL : sensed & V4L2_STD_NTSC ? V4L2_STD_NTSC : 0;
      }
      if (std) dev.setStandard(std);
      const now = dev.getStandard();
      standard = now & V4L2_STD_PAL ? 'pal' : now & V4L2_STD_NTSC ? 'ntsc' : 'other';
    }
    const offered = dev.enumFormats(type);
    const pick = PREFERRED.find(([fcc]) => offered.some((f) => f.pixelformat === fcc));
    if (!pick) {
      throw new SourceError(`${req.device}: unsupported formats ${offered.map((f) => f.fourcc).join(', ') || 'none'} (the encoders take NV12, YU12, YUYV)`, 'protocol');
    }
    const fmt = dev.setFormat(type, {
      width: req.width ?? 704,
      height: req.height ?? (standard === 'ntsc' ? 480 : 576),
      pixelformat: pick[0],
    });
    if (fmt.pixelformat !== pick[0]) throw new SourceError(`${req.device}: asked for ${fourccToString(pick[0])}, got ${fourccToString(fmt.pixelformat)}`, 'protocol');
    if (fmt.width % 4 || fmt.height % 4) throw new SourceError(`${req.device}: ${fmt.width}x${fmt.height} is not a multiple of 4 (the 2:1 scaler needs it)`, 'protocol');
    const parm = dev.getParm(type).timeperframe;
    const fps = parm.numerator > 0 && parm.denominator > 0 ? { num: parm.denominator, den: parm.numerator } : standard === 'ntsc' ? { num: 30000, den: 1001 } : { num: 25, den: 1 };
    const bpl = fmt.planes[0]?.bytesperline || (pick[1] === 'yuyv' ? fmt.width * 2 : fmt.width);
    const geometry: CaptureGeometry = { width: fmt.width, height: fmt.height, format: pick[1], bytesperline: bpl, frameBytes: frameBytes(pick[1], bpl, fmt.height), fps, standard };
    let stream: CaptureStream;
    try {
      stream = await CaptureStream.start(dev, { buffers: req.buffers ?? 4 });
    } catch (err) {
      throw deviceError(err, `cannot start capture on ${req.device}`);
    }
    return {
      stream,
      geometry,
      inputStatus: () => dev.inputStatus(),
      controls: deviceControls(dev),
      close: async () => {
        await stream.stop();
        dev.close();
      },
    };
  } catch (err) {
    dev.close();
    throw err instanceof SourceError ? err : deviceError(err, req.device);
  }
};
