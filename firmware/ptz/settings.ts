// The `ptz` section of the config, and the PTZ services built from it: one
// PtzService per RS-485 line named by the board profile, a lookup by dome
// and by channel for the API, MQTT and linkage rules.
import { array, boolean, int, nullable, number, object, oneOf, string, type Infer } from '../core/schema.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { SharedLines } from '../../drivers/serial/index.js';
import type { PtzController } from './controller.js';
import { PtzService } from './service.js';
import type { Tour } from './tour.js';

const id = string({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9_-]*$/ });

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
      park: nullable(object({ preset: int({ min: 1, max: 255 }), idleSec: int({ min: 1, max: 86_400 }) })).default(null),
      presets: array(object({ number: int({ min: 1, max: 255 }), name: string({ min: 1, max: 64 }) }), { max: 255 })
        .default([])
        .describe('named presets: shown in the page and as Home Assistant buttons'),
    }),
    { max: 64 },
  ).default([]),
  tours: array(
    object({
      id,
      dome: id,
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

/**
 * The PTZ services of the box and how to reach a dome. Built from settings at
 * start; a dome on a line the board does not have is reported, not fatal.
 */
export class PtzDirectory {
  readonly services: PtzLine[] = [];
  private readonly serviceOf = new Map<string, PtzService>();
  private readonly others = new Map<string, { channel: string; controller: PtzController }>();
  readonly problems: string[] = [];

  constructor(
    private readonly settings: PtzSettings,
    lines: Rs485Line[],
    /** `lines`: the box's registry of RS-485 buses, so domes share a line with other devices (Modbus modules). */
    deps: { clock: Clock; log: Logger; lines?: SharedLines },
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
        line: { path: line.port, baudRate: domes[0].baudRate, rs485: line.direction === 'kernel-rts' },
        domes: domes.map((d) => ({
          id: d.id,
          protocol: d.protocol,
          address: d.address,
          baudRate: d.baudRate,
          presetSpeed: d.presetSpeed,
          ...(d.park ? { park: { preset: d.park.preset, idleMs: d.park.idleSec * 1000 } } : {}),
        })),
        clock: deps.clock,
        log: deps.log.child(`ptz-${bus}`),
        ...(deps.lines ? { shared: { lines: deps.lines, name: bus } } : {}),
      });
      this.services.push(new PtzLine(service, { clock: deps.clock, log: deps.log.child(`ptz-${bus}`) }));
      for (const d of domes) this.serviceOf.set(d.id, service);
    }
  }

  /** Each line and whether it is open, for status pages. */
  status(): { service: string; open: boolean; error?: string }[] {
    return this.services.map((l) => ({ service: l.name, open: l.open, ...(l.lastError ? { error: l.lastError } : {}) }));
  }

  domeIds(): string[] {
    return [...this.serviceOf.keys(), ...this.others.keys()];
  }

  /**
   * A PTZ camera that is not on an RS-485 line (an ONVIF camera), under the
   * same API; its id is its channel's. Tours and park run on RS-485 domes only.
   */
  addController(id: string, channel: string, controller: PtzController): void {
    if (this.serviceOf.has(id) || this.others.has(id)) throw new Error(`PTZ dome "${id}" exists already`);
    this.others.set(id, { channel, controller });
  }

  dome(id: string): PtzController {
    const other = this.others.get(id);
    if (other) return other.controller;
    const s = this.serviceOf.get(id);
    if (!s) throw new Error(`no PTZ dome "${id}"`);
    return s.dome(id);
  }

  /** The dome that is this channel's camera, if any. */
  domeOfChannel(channel: string): string | undefined {
    const rs485 = this.settings.domes.find((d) => d.channel === channel && this.serviceOf.has(d.id))?.id;
    return rs485 ?? [...this.others].find(([, o]) => o.channel === channel)?.[0];
  }

  startTour(domeId: string, tourId: string): void {
    const t = this.settings.tours.find((x) => x.id === tourId);
    if (!t) throw new Error(`no PTZ tour "${tourId}"`);
    const tour: Tour = { name: t.id, loop: t.loop, steps: t.steps.map((s) => ({ preset: s.preset, dwellMs: s.dwellSec * 1000, speed: s.speed })) };
    const s = this.serviceOf.get(domeId);
    if (!s) throw new Error(this.others.has(domeId) ? `PTZ dome "${domeId}" is an IP camera: tours run on RS-485 domes only` : `no PTZ dome "${domeId}"`);
    s.startTour(domeId, tour);
  }
}
