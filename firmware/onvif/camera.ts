/**
 * An ONVIF camera added by address and credentials: device information,
 * media profiles with their main/sub stream URIs and the snapshot URI, over
 * the onvif package's promise API. Every failure is an OnvifError
 * (unreachable / unauthorized / not-onvif / bad-reply / unsupported).
 */
import onvif from 'onvif/promises/index.js';
import type { Logger } from '../core/log.js';
import { OnvifError, toOnvifError } from './errors.js';

export interface OnvifCameraOptions {
  host: string;
  /** HTTP port of the device service. Default 80. */
  port?: number;
  /** Device service path. Default /onvif/device_service. */
  path?: string;
  username: string;
  password: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /**
   * Talk to `host:port` for every service even when the camera advertises
   * other addresses (NAT, port forwards, a second interface). Default true.
   */
  preserveAddress?: boolean;
  log?: Logger;
}

export interface DeviceInfo {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface OnvifProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  /** The profile has a PTZ configuration. */
  ptz: boolean;
}

export interface OnvifStream extends OnvifProfile {
  /** As the camera gives it: may carry credentials in rare cameras, so never log it (use `redactUri`). */
  uri: string;
}

export interface OnvifStreams {
  main: OnvifStream;
  sub?: OnvifStream;
  snapshotUri?: string;
}

/**
 * The promise-API camera object. Its typings drop optional arguments of
 * some methods (getStreamUri(options)), so this folder calls it through a
 * loose view: every method takes anything and resolves to `any`.
 */
export type PromiseCam = { [method: string]: (...args: any[]) => any };

/** Removes user:password@ from a URI, for logs and status pages. */
export function redactUri(uri: string): string {
  return uri.replace(/^(\w[\w+.-]*:\/\/)[^/@\s]*@/, '$1');
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** A media profile as the onvif package returns it (linerase'd XML) to ours; null when it has no token. */
export function readProfile(p: any): OnvifProfile | null {
  const token = p?.$?.token;
  if (typeof token !== 'string' || !token) return null;
  const enc = p.videoEncoderConfiguration;
  const out: OnvifProfile = { token, name: str(p.name) || token, ptz: !!p.PTZConfiguration };
  if (enc && typeof enc === 'object') {
    const encoding = str(enc.encoding);
    if (encoding) out.encoding = encoding;
    const w = num(enc.resolution?.width);
    const h = num(enc.resolution?.height);
    const fps = num(enc.rateControl?.frameRateLimit);
    const br = num(enc.rateControl?.bitrateLimit);
    if (w !== undefined) out.width = w;
    if (h !== undefined) out.height = h;
    if (fps !== undefined) out.fps = fps;
    if (br !== undefined) out.bitrateKbps = br;
  }
  return out;
}

export class OnvifCamera {
  private cam?: PromiseCam;
  private connecting?: Promise<void>;
  private info?: DeviceInfo;

  constructor(readonly o: OnvifCameraOptions) {}

  /** host:port, for logs (no credentials). */
  get label(): string {
    return `${this.o.host}:${this.o.port ?? 80}`;
  }

  /**
   * Reads the camera's clock (WS-Security timestamps are in camera time),
   * its services and profiles, then the device information, which needs
   * valid credentials: a wrong password fails here, not later.
   */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().catch((e) => {
      this.connecting = undefined;
      this.cam = undefined;
      throw e;
    });
    return this.connecting;
  }

  /** Forget the session: the next call connects again (after a camera reboot, a clock change). */
  reset(): void {
    this.connecting = undefined;
    this.cam = undefined;
  }

  /** The connected promise-API camera object, for the events and PTZ services. */
  async api(): Promise<PromiseCam> {
    await this.connect();
    return this.cam!;
  }

  async deviceInfo(): Promise<DeviceInfo> {
    await this.connect();
    return this.info!;
  }

  async profiles(): Promise<OnvifProfile[]> {
    const cam = await this.api();
    const raw = await this.call('GetProfiles', () => cam.getProfiles());
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    return list.map(readProfile).filter((p): p is OnvifProfile => p !== null);
  }

  async streamUri(profileToken: string): Promise<string> {
    const cam = await this.api();
    const r: any = await this.call('GetStreamUri', () => cam.getStreamUri({ protocol: 'RTSP', profileToken }));
    const uri = typeof r?.uri === 'string' ? r.uri.trim() : '';
    if (!/^rtsps?:\/\//i.test(uri)) throw new OnvifError('bad-reply', `GetStreamUri: profile ${profileToken} has no RTSP URI`);
    return uri;
  }

  async snapshotUri(profileToken: string): Promise<string> {
    const cam = await this.api();
    const r: any = await this.call('GetSnapshotUri', () => cam.getSnapshotUri({ profileToken }));
    const uri = typeof r?.uri === 'string' ? r.uri.trim() : '';
    if (!/^https?:\/\//i.test(uri)) throw new OnvifError('bad-reply', `GetSnapshotUri: profile ${profileToken} has no HTTP URI`);
    return uri;
  }

  /**
   * Main = the profile with the most pixels, sub = the next one (cameras list
   * them in any order), each with its stream URI; the snapshot URI of the
   * main profile when the camera has one.
   */
  async streams(): Promise<OnvifStreams> {
    const profiles = (await this.profiles()).filter((p) => p.encoding === undefined || /h26[45]|hevc/i.test(p.encoding));
    if (!profiles.length) throw new OnvifError('unsupported', `${this.label}: no H.264/H.265 media profile`);
    const pixels = (p: OnvifProfile) => (p.width ?? 0) * (p.height ?? 0);
    const sorted = [...profiles].sort((a, b) => pixels(b) - pixels(a));
    const main: OnvifStream = { ...sorted[0]!, uri: await this.streamUri(sorted[0]!.token) };
    const out: OnvifStreams = { main };
    if (sorted[1]) out.sub = { ...sorted[1], uri: await this.streamUri(sorted[1].token) };
    try {
      out.snapshotUri = await this.snapshotUri(main.token);
    } catch (e) {
      // Many cameras have no snapshot; only a refused login is worth failing for.
      if ((e as OnvifError).code === 'unauthorized') throw e;
    }
    this.o.log?.info('onvif streams', {
      camera: this.label,
      main: `${redactUri(main.uri)} ${main.width}x${main.height}`,
      sub: out.sub ? `${redactUri(out.sub.uri)} ${out.sub.width}x${out.sub.height}` : 'none',
    });
    return out;
  }

  /**
   * Whether the camera has a PTZ and an event service, as its GetServices
   * (or GetCapabilities) told at connect: the add-camera page offers
   * ptz/events on a channel only when the camera has them.
   */
  async offers(): Promise<{ ptz: boolean; events: boolean }> {
    const uri = ((await this.api()) as unknown as { uri?: Record<string, unknown> }).uri ?? {};
    return { ptz: !!uri.ptz, events: !!uri.events };
  }

  /** Runs one camera call, mapping every failure to an OnvifError. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toOnvifError(e, `${this.label} ${what}`);
    }
  }

  private async doConnect(): Promise<void> {
    if (/[<>&]/.test(this.o.username)) throw new OnvifError('unauthorized', `${this.label}: a username with <, > or & cannot be sent in WS-Security`);
    const cam = new onvif.Cam({
      hostname: this.o.host,
      port: this.o.port ?? 80,
      path: this.o.path ?? '/onvif/device_service',
      username: this.o.username,
      password: this.o.password,
      timeout: this.o.timeoutMs ?? 10_000,
      preserveAddress: this.o.preserveAddress ?? true,
    }) as unknown as PromiseCam;
    // The package reports odd replies as 'warning' events; an unhandled 'error' would throw.
    // (EventEmitter methods pass through the promise proxy unchanged; assigning through it throws.)
    cam.on('warning', (w: unknown) => this.o.log?.debug('onvif warning', { camera: this.label, warning: String(w).slice(0, 200) }));
    cam.on('error', (e: unknown) => this.o.log?.warn('onvif error', { camera: this.label, error: String(e).slice(0, 200) }));
    await this.call('connect', () => cam.connect());
    const raw: any = await this.call('GetDeviceInformation', () => cam.getDeviceInformation());
    if (!raw || typeof raw !== 'object') throw new OnvifError('bad-reply', `${this.label} GetDeviceInformation: empty answer`);
    this.info = {
      manufacturer: str(raw.manufacturer),
      model: str(raw.model),
      firmwareVersion: str(raw.firmwareVersion),
      serialNumber: str(raw.serialNumber),
      hardwareId: str(raw.hardwareId),
    };
    this.cam = cam;
    this.o.log?.info('onvif camera connected', { camera: this.label, ...this.info });
  }
}
