// The `ptz` section of the config, and the PTZ services built from it: one
// PtzService per RS-485 line named by the board profile, one IpPtzService
// for the ONVIF cameras' tours and park, a lookup by dome and by channel for
// the API, MQTT and linkage rules.
import { array, boolean, int, nullable, number, object, oneOf, string, type Infer } from '../core/schema.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { SerialLineOptions, SharedLines } from '../../drivers/serial/index.js';
import type { ConfigStore } from '../config/store.js';
import { PRESET_NAME_MAX, type Preset, type PtzController } from './controller.js';
import { IpPtzService } from './ip-service.js';
import type { ManagedDome } from './managed-dome.js';
import { PtzService } from './service.js';
import type { ParkOptions, Tour } from './tour.js';

const id = string({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9_-]*$/ });
const park = nullable(object({ preset: int({ min: 1, max: 255 }), idleSec: int({ min: 1, max: 86_400 }) }))
  .default(null)
  .describe('go to this preset after idleSec without a user command');

export const ptzSettingsSchema = object({
  domes: array(
    object({
      id,
      name: string({ min: 1, max: 64 }),
      channel: nullable(id).default(null).describe('the camera channel this dome is; PTZ controls appear on it'),
      bus: string({ min: 1, max: 32 }).describe('RS-485 line name from the board profile'),
      protocol: oneOf(['d', 'p'] as const).default('d').describe('Pelco-D or Pelco-P'),
      address: int({ min: 1, max: 255 }).describe('as set on the dome’s switches'),
      baudRate: int({ min: 1200, max: 115_200 }).default(2400).describe('Pelco domes: 2400, 4800 or 9600 as set on the dome'),
      presetSpeed: boolean().default(false).describe('the dome reads a speed in Go To Preset (some vendors)'),
      park,
      presets: array(object({ number: int({ min: 1, max: 255 }), name: string({ min: 1, max: PRESET_NAME_MAX }) }), { max: 255 })
        .default([])
        .describe('named presets: shown in the page and as Home Assistant buttons; kept here when set from the page or the API'),
    }),
    { max: 64 },
  ).default([]),
  onvif: array(
    object({
      channel: id.describe('an IP channel whose onvif.ptz is on'),
      park,
    }),
    { max: 64 },
  )
    .default([])
    .describe('tours and park of ONVIF PTZ cameras, run by the box; a tour names the channel as its dome'),
  tours: array(
    object({
      id,
      dome: id.describe('an RS-485 dome id, or the channel id of an ONVIF PTZ camera'),
      loop: boolean().default(true),
      steps: array(object({ preset: int({ min: 1, max: 255 }), dwellSec: number({ min: 0.1, max: 3600 }), speed: number({ min: 0, max: 1 }).default(1) }), { max: 64 }),
    }),
    { max: 64 },
  ).default([]),
});
export type PtzSettings = Infer<typeof ptzSettingsSchema>;

export interface Rs485Line {
  name: string;
  port: string;
  direction: 'kernel-rts' | 'gpio' | 'none';
}

/**
 * One RS-485 line's PTZ service, kept trying: a USB adapter unplugged or a
 * line not there yet leaves the domes unreachable (each command says so) but
 * does not make the box "failed"; the line is retried until it opens.
 */
export class PtzLine implements Service {
  readonly name: string;
  private timer: Timer | undefined;
  private stopped = true;
  lastError: string | undefined;

  constructor(
    readonly service: PtzService,
    private readonly deps: { clock: Clock; log: Logger; retryMs?: number },
  ) {
    this.name = service.name;
  }

  get open(): boolean {
    return !this.stopped && this.lastError === undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    try {
      await this.service.start();
      if (this.lastError !== undefined) this.deps.log.info('RS-485 line open again', { service: this.name });
      this.lastError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (this.lastError !== message) this.deps.log.warn('RS-485 line not available; PTZ domes on it are unreachable, retrying', { service: this.name, error: message });
      this.lastError = message;
      if (!this.stopped) this.timer = this.deps.clock.setTimeout(() => void this.attempt(), this.deps.retryMs ?? 10_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.service.stop();
  }
}

/** What the directory needs of the config store to keep preset names: its validated, durable update. */
export type PresetConfig = Pick<ConfigStore, 'update'>;

/**
 * The PTZ services of the box and how to reach a dome. Built from settings at
 * start; a dome on a line the board does not have is reported, not fatal.
 */
export class PtzDirectory {
  /** For the supervisor: the RS-485 lines, and the ONVIF cameras' tours and park when configured. */
  readonly services: Service[] = [];
  readonly lines: PtzLine[] = [];
  private readonly serviceOf = new Map<string, PtzService>();
  private readonly ip: IpPtzService;
  private readonly channelOf = new Map<string, string>();
  readonly problems: string[] = [];

  constructor(
    private readonly settings: PtzSettings,
    lines: Rs485Line[],
    /**
     * `lines`: the box's registry of RS-485 buses, so domes share a line with other devices (Modbus modules).
     * `config`: where preset names set, cleared or renamed at run time are kept.
     */
    private readonly deps: {
      clock: Clock;
      log: Logger;
      lines?: SharedLines;
      config?: PresetConfig;
      /** The serial options of a board line (the firmware's: kernel RS-485 mode or a driver-enable GPIO); default: kernel mode when the line says kernel-rts. */
      lineOptions?: (bus: string, baudRate: number) => SerialLineOptions | undefined;
    },
  ) {
    const byBus = new Map<string, PtzSettings['domes']>();
    for (const d of settings.domes) {
      if (!lines.some((l) => l.name === d.bus)) {
        this.problems.push(`PTZ dome "${d.id}" is on RS-485 line "${d.bus}", which this board does not have`);
        continue;
      }
      byBus.set(d.bus, [...(byBus.get(d.bus) ?? []), d]);
    }
    for (const [bus, domes] of byBus) {
      const line = lines.find((l) => l.name === bus)!;
      const service = new PtzService({
        name: `ptz-${bus}`,
        line: deps.lineOptions?.(bus, domes[0].baudRate) ?? { path: line.port, baudRate: domes[0].baudRate, rs485: line.direction === 'kernel-rts' },
        domes: domes.map((d) => ({
          id: d.id,
          protocol: d.protocol,
          address: d.address,
          baudRate: d.baudRate,
          presetSpeed: d.presetSpeed,
          presets: this.uniquePresets(d.id, d.presets),
          ...(d.park ? { park: parkOf(d.park) } : {}),
        })),
        clock: deps.clock,
        log: deps.log.child(`ptz-${bus}`),
        savePresets: (dome, presets) => this.savePresets(dome, presets),
        ...(deps.lines ? { shared: { lines: deps.lines, name: bus } } : {}),
      });
      const supervised = new PtzLine(service, { clock: deps.clock, log: deps.log.child(`ptz-${bus}`) });
      this.lines.push(supervised);
      this.services.push(supervised);
      for (const d of domes) this.serviceOf.set(d.id, service);
    }
    const park = new Map(settings.onvif.flatMap((o) => (o.park ? [[o.channel, parkOf(o.park)] as const] : [])));
    this.ip = new IpPtzService({ clock: deps.clock, log: deps.log.child('ptz-onvif'), park });
    // Only when the config gives the ONVIF cameras something to run: a box
    // without them keeps its list of services (and `dvr status`) as it was.
    if (settings.onvif.length > 0 || settings.tours.some((t) => !this.serviceOf.has(t.dome))) this.services.push(this.ip);
  }

  /** Each line and whether it is open, for status pages. */
  status(): { service: string; open: boolean; error?: string }[] {
    return this.lines.map((l) => ({ service: l.name, open: l.open, ...(l.lastError ? { error: l.lastError } : {}) }));
  }

  domeIds(): string[] {
    return [...this.serviceOf.keys(), ...this.channelOf.keys()];
  }

  /**
   * A PTZ camera that is not on an RS-485 line (an ONVIF camera), under the
   * same API; its id is its channel's. Its tours and park (ptz.onvif) run in
   * the directory's IpPtzService.
   */
  addController(id: string, channel: string, controller: PtzController): void {
    if (this.serviceOf.has(id) || this.ip.has(id)) throw new Error(`PTZ dome "${id}" exists already`);
    this.ip.add(id, controller);
    this.channelOf.set(id, channel);
  }

  dome(id: string): ManagedDome {
    if (this.ip.has(id)) return this.ip.dome(id);
    const s = this.serviceOf.get(id);
    if (!s) throw new Error(`no PTZ dome "${id}"`);
    return s.dome(id);
  }

  /** The dome that is this channel's camera, if any. */
  domeOfChannel(channel: string): string | undefined {
    const rs485 = this.settings.domes.find((d) => d.channel === channel && this.serviceOf.has(d.id))?.id;
    return rs485 ?? [...this.channelOf].find(([, c]) => c === channel)?.[0];
  }

  startTour(domeId: string, tourId: string): void {
    const t = this.settings.tours.find((x) => x.id === tourId);
    if (!t) throw new Error(`no PTZ tour "${tourId}"`);
    const tour: Tour = { name: t.id, loop: t.loop, steps: t.steps.map((s) => ({ preset: s.preset, dwellMs: s.dwellSec * 1000, speed: s.speed })) };
    if (this.ip.has(domeId) && !this.services.includes(this.ip)) {
      throw new Error(`PTZ camera "${domeId}": tours of ONVIF cameras run when the config names one (a tour with "dome": "${domeId}", or ptz.onvif)`);
    }
    this.dome(domeId).startTour(tour);
  }

  stopTour(domeId: string): void {
    this.dome(domeId).stopTour();
  }

  tourRunning(domeId: string): string | undefined {
    return this.dome(domeId).tourRunning;
  }

  /** A later entry for the same number wins, as the page would show it last; the duplicate is reported. */
  private uniquePresets(dome: string, presets: Preset[]): Preset[] {
    const byNumber = new Map<number, string>();
    for (const p of presets) {
      if (byNumber.has(p.number)) this.problems.push(`PTZ dome "${dome}" lists preset ${p.number} twice; "${p.name}" is used`);
      byNumber.set(p.number, p.name);
    }
    return [...byNumber].map(([number, name]) => ({ number, name }));
  }

  /** Through the config store, like every other change of a setting: validated, written durably. */
  private async savePresets(dome: string, presets: Preset[]): Promise<void> {
    const config = this.deps.config;
    if (!config) return;
    await config.update((draft) => {
      const domes = (draft.ptz as PtzSettings).domes;
      const d = domes.find((x) => x.id === dome);
      if (!d) throw new Error(`PTZ dome "${dome}" is no longer in the config`);
      d.presets = presets.map((p) => ({ number: p.number, name: p.name }));
    }, ['ptz.domes']);
  }
}

function parkOf(p: { preset: number; idleSec: number }): ParkOptions {
  return { preset: p.preset, idleMs: p.idleSec * 1000 };
}
