/**
 * OnvifPtz: an ONVIF camera's PTZ behind the firmware's PtzController
 * interface (the one Pelco domes implement), so tours, park, the web page
 * and MQTT drive both alike. Presets are numbered like Pelco's: number n is
 * ONVIF preset token "n" where the camera lets us choose tokens (Hikvision,
 * Dahua), otherwise the camera's own token is remembered for n.
 */
import { PtzError, type Direction, type PatternAction, type Preset, type PtzController, type PtzPosition } from '../ptz/controller.js';
import type { OnvifCamera } from './camera.js';
import { OnvifError } from './errors.js';

export interface OnvifPtzOptions {
  camera: OnvifCamera;
  /** Media profile the PTZ commands name. Default: the first profile with a PTZ configuration. */
  profileToken?: string;
}

/** Escapes text for the XML the onvif package builds by concatenation (preset names). */
export function xmlText(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function checkSpeed(label: string, v: number): void {
  if (!Number.isFinite(v) || v < -1 || v > 1) throw new RangeError(`${label} speed must be -1..1, got ${v}`);
}

export class OnvifPtz implements PtzController {
  private profile?: string;
  /** Preset number → ONVIF token, and the names. */
  private readonly tokens = new Map<number, string>();
  private readonly names = new Map<number, string>();

  constructor(private readonly o: OnvifPtzOptions) {}

  get label(): string {
    return `${this.o.camera.label} (ONVIF PTZ)`;
  }

  /** Reads the camera's presets into the numbered list (tokens "1".."n" keep their number). */
  async refreshPresets(): Promise<Preset[]> {
    // The package's reply is keyed by name (equal names collide); its `presets` property is keyed by token.
    const raw = await this.do('GetPresets', async (cam, profileToken) => {
      await cam.getPresets({ profileToken });
      return cam.presets;
    });
    this.tokens.clear();
    this.names.clear();
    const entries = Object.values((raw ?? {}) as Record<string, any>)
      .map((p) => ({ token: typeof p?.$?.token === 'string' || typeof p?.$?.token === 'number' ? String(p.$.token) : '', name: typeof p?.name === 'string' || typeof p?.name === 'number' ? String(p.name) : '' }))
      .filter((p) => p.token);
    const others: typeof entries = [];
    for (const p of entries) {
      const n = /^\d{1,4}$/.test(p.token) ? Number(p.token) : 0;
      if (n >= 1 && !this.tokens.has(n)) this.remember(n, p.token, p.name);
      else others.push(p);
    }
    for (const p of others) {
      let n = 1;
      while (this.tokens.has(n)) n++;
      this.remember(n, p.token, p.name);
    }
    return this.presets();
  }

  async move(pan: number, tilt: number, zoom: number): Promise<void> {
    checkSpeed('pan', pan);
    checkSpeed('tilt', tilt);
    checkSpeed('zoom', zoom);
    // ONVIF velocity space: pan > 0 right, tilt > 0 up, zoom > 0 in; the same senses as the interface.
    await this.do('ContinuousMove', (cam, profileToken) => cam.continuousMove({ profileToken, x: pan, y: tilt, zoom }));
  }

  async stop(): Promise<void> {
    await this.do('Stop', (cam, profileToken) => cam.stop({ profileToken, panTilt: true, zoom: true }));
  }

  async gotoPreset(n: number, speed?: number): Promise<void> {
    const token = this.tokens.get(n) ?? String(n);
    const s = speed === undefined ? undefined : Math.min(1, Math.max(0, speed));
    await this.do(`GotoPreset ${n}`, (cam, profileToken) =>
      cam.gotoPreset({ profileToken, preset: xmlText(token), ...(s !== undefined && s > 0 ? { speed: { x: s, y: s, zoom: s } } : {}) }),
    );
  }

  async setPreset(n: number, name?: string): Promise<void> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`preset number must be a positive integer, got ${n}`);
    const presetName = name ?? `Preset ${n}`;
    const token = this.tokens.get(n) ?? String(n);
    const r: any = await this.do(`SetPreset ${n}`, (cam, profileToken) => cam.setPreset({ profileToken, presetName: xmlText(presetName), presetToken: xmlText(token) }));
    // The reply's token (cameras that assign their own); the package hands the raw parsed body.
    const got = r?.[0]?.setPresetResponse?.[0]?.presetToken?.[0];
    this.remember(n, typeof got === 'string' && got ? got : token, presetName);
  }

  async clearPreset(n: number): Promise<void> {
    const token = this.tokens.get(n) ?? String(n);
    await this.do(`RemovePreset ${n}`, (cam, profileToken) => cam.removePreset({ profileToken, presetToken: xmlText(token) }));
    this.tokens.delete(n);
    this.names.delete(n);
  }

  presets(): Preset[] {
    return [...this.tokens.keys()].sort((a, b) => a - b).map((number) => ({ number, name: this.names.get(number) ?? '' }));
  }

  /**
   * Where the camera points, from GetStatus in the generic position space:
   * pan -1..1 as 0..35999 hundredths of a degree (0 = the camera's pan
   * origin at -1), tilt -1..1 as +90°..-90° (positive below the horizon, as
   * Pelco domes report), zoom 0..1 as 0..65535. Generic spaces do not say
   * how many degrees a camera covers: an approximation for display.
   */
  async position(): Promise<PtzPosition> {
    const raw = await this.rawPosition();
    return {
      pan: Math.round(((raw.x + 1) / 2) * 36000) % 36000,
      tilt: Math.round(-raw.y * 9000),
      zoom: Math.round(Math.min(1, Math.max(0, raw.zoom)) * 65535),
    };
  }

  /** GetStatus position as the camera gives it (generic space: pan/tilt -1..1, zoom 0..1). */
  async rawPosition(): Promise<{ x: number; y: number; zoom: number }> {
    const s: any = await this.do('GetStatus', (cam, profileToken) => cam.getStatus({ profileToken }));
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.isFinite(Number(v)) ? Number(v) : NaN);
    const p = { x: n(s?.position?.x), y: n(s?.position?.y), zoom: n(s?.position?.zoom) };
    if (![p.x, p.y, p.zoom].every(Number.isFinite)) throw new PtzError(`${this.label}: GetStatus has no readable position`, 'FAILED');
    return p;
  }

  // Lens, aux, scan and pattern are Pelco features with no ONVIF PTZ operation here
  // (focus/iris belong to the imaging service): refused, never silently ignored.
  async focus(_d: Direction): Promise<void> {
    throw this.unsupported('focus');
  }
  async iris(_d: Direction): Promise<void> {
    throw this.unsupported('iris');
  }
  async aux(_n: number, _on: boolean): Promise<void> {
    throw this.unsupported('aux');
  }
  async autoScan(_on: boolean): Promise<void> {
    throw this.unsupported('auto scan');
  }
  async pattern(_a: PatternAction, _n?: number): Promise<void> {
    throw this.unsupported('patterns');
  }

  private unsupported(what: string): PtzError {
    return new PtzError(`${this.label}: ${what} is not available over ONVIF PTZ`, 'UNSUPPORTED');
  }

  private remember(n: number, token: string, name: string): void {
    this.tokens.set(n, token);
    this.names.set(n, name);
  }

  private async profileToken(): Promise<string> {
    if (this.o.profileToken) return this.o.profileToken;
    if (!this.profile) {
      const withPtz = (await this.o.camera.profiles()).find((p) => p.ptz);
      if (!withPtz) throw new PtzError(`${this.o.camera.label}: no media profile has PTZ`, 'UNSUPPORTED');
      this.profile = withPtz.token;
    }
    return this.profile;
  }

  /** One PTZ call; camera failures become PtzError with the OnvifError code upper-cased (UNREACHABLE, UNAUTHORIZED, ...). */
  private async do<T>(what: string, fn: (cam: any, profileToken: string) => Promise<T>): Promise<T> {
    try {
      const profileToken = await this.profileToken();
      const cam = await this.o.camera.api();
      return await this.o.camera.call(what, () => fn(cam, profileToken));
    } catch (e) {
      if (e instanceof PtzError) throw e;
      if (e instanceof OnvifError) {
        // A camera that went away may come back rebooted: the next command starts a new session.
        if (e.code === 'unreachable' || e.code === 'unauthorized') this.o.camera.reset();
        throw new PtzError(`${this.label}: ${e.message}`, e.code.toUpperCase().replace('-', '_'));
      }
      throw e;
    }
  }
}
