// PTZ cameras reached over the network (ONVIF) instead of an RS-485 line.
// Their tours and park run here, on the firmware's clock, exactly as the
// RS-485 domes' run in their PtzService: a camera's own tour memory differs
// from vendor to vendor and most cannot park on idle at all.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { PtzController } from './controller.js';
import { ManagedDome } from './managed-dome.js';
import type { ParkOptions } from './tour.js';

export interface IpPtzServiceOptions {
  clock: Clock;
  log: Logger;
  /** Park settings by camera id (its channel), from the config. */
  park?: Map<string, ParkOptions>;
  name?: string;
}

export class IpPtzService implements Service {
  readonly name: string;
  readonly #domes = new Map<string, ManagedDome>();
  #running = false;

  constructor(private readonly o: IpPtzServiceOptions) {
    this.name = o.name ?? 'ptz-onvif';
  }

  /** Adds a camera; its park countdown starts with the service (or at once if it runs). */
  add(id: string, controller: PtzController): ManagedDome {
    if (this.#domes.has(id)) throw new Error(`PTZ camera "${id}" exists already`);
    const dome = new ManagedDome(controller, { id, clock: this.o.clock, log: this.o.log.child(`${this.name}.${id}`), park: this.o.park?.get(id) });
    this.#domes.set(id, dome);
    if (this.#running) dome.arm();
    return dome;
  }

  has(id: string): boolean {
    return this.#domes.has(id);
  }

  dome(id: string): ManagedDome {
    const d = this.#domes.get(id);
    if (!d) throw new Error(`no PTZ camera "${id}"`);
    return d;
  }

  async start(): Promise<void> {
    this.#running = true;
    for (const d of this.#domes.values()) d.arm();
    for (const id of this.o.park?.keys() ?? []) {
      // A typo in the channel, or a channel whose ONVIF PTZ is off: say so rather than never parking.
      if (!this.#domes.has(id)) this.o.log.warn('park configured for a channel without ONVIF PTZ', { channel: id });
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const d of this.#domes.values()) d.halt();
  }
}
