// A PTZ head as users and automations see it, Pelco dome or ONVIF camera
// alike: tours and park run here on the firmware's clock, so both kinds get
// them from one implementation and behave the same.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { PtzError, checkPresetName, type Direction, type PatternAction, type Preset, type PtzController, type PtzPosition } from './controller.js';
import { ParkTimer, TourRunner, validateTour, type ParkOptions, type Tour } from './tour.js';

export interface ManagedDomeOptions {
  /** The id the API names the head by (messages say it). */
  id: string;
  clock: Clock;
  log: Logger;
  park?: ParkOptions;
  /** Keeps the preset list (names) somewhere that survives a restart; called after every change. */
  savePresets?: (presets: Preset[]) => Promise<void>;
}

/** Every user command counts as activity: it restarts the park countdown and ends a running tour. */
export class ManagedDome implements PtzController {
  #tour: TourRunner | undefined;
  readonly #park: ParkTimer | undefined;
  // Off until its service starts and again once it stops, so a late command
  // during shutdown cannot leave a park timer behind.
  #armed = false;

  constructor(
    readonly raw: PtzController,
    private readonly o: ManagedDomeOptions,
  ) {
    // Refused here, at start, rather than on the first idle period hours later.
    this.#park = o.park ? new ParkTimer(raw, o.park, o.clock, o.log) : undefined;
  }

  /** Starts counting idle time towards park (the head's service started). */
  arm(): void {
    this.#armed = true;
    this.#park?.activity();
  }

  /** Ends any tour and the park countdown (the head's service stops). */
  halt(): void {
    this.#armed = false;
    this.#tour?.stop();
    this.#park?.suspend();
  }

  get parked(): boolean {
    return this.#park?.parked ?? false;
  }

  /** Starts `tour`, replacing any tour running here; park waits until it ends. */
  startTour(tour: Tour): void {
    validateTour(tour);
    if (!this.#armed) throw new PtzError(`PTZ dome "${this.o.id}": tours do not run while its PTZ service is stopped`, 'STOPPED');
    this.#tour?.stop();
    this.#park?.suspend();
    const runner = new TourRunner(this.raw, tour, this.o.clock, this.o.log, () => {
      if (this.#tour === runner) this.#tour = undefined;
      if (this.#armed) this.#park?.activity(); // idle time counts from the tour's end
    });
    this.#tour = runner;
    runner.start();
  }

  stopTour(): void {
    this.#tour?.stop();
  }

  /** The name of the tour running, if one is. */
  get tourRunning(): string | undefined {
    return this.#tour?.running ? this.#tour.tour.name : undefined;
  }

  #user(): void {
    this.#tour?.stop();
    if (this.#armed) this.#park?.activity();
  }

  move(pan: number, tilt: number, zoom: number, options?: { turbo?: boolean }): Promise<void> {
    this.#user();
    return this.raw.move(pan, tilt, zoom, options);
  }
  stop(): Promise<void> {
    this.#user();
    return this.raw.stop();
  }
  gotoPreset(n: number, speed?: number): Promise<void> {
    this.#user();
    return this.raw.gotoPreset(n, speed);
  }
  async setPreset(n: number, name?: string): Promise<void> {
    if (name !== undefined) checkPresetName(name); // a refused command must not end a tour either
    this.#user();
    await this.raw.setPreset(n, name);
    await this.#save(`preset ${n} is set`);
  }
  async clearPreset(n: number): Promise<void> {
    this.#user();
    await this.raw.clearPreset(n);
    await this.#save(`preset ${n} is cleared`);
  }
  // Not activity: a name changes nothing the camera looks at.
  async renamePreset(n: number, name: string): Promise<void> {
    if (!this.raw.renamePreset) {
      throw new PtzError(`PTZ dome "${this.o.id}": the camera keeps its preset names; set the preset again with the new name`, 'UNSUPPORTED');
    }
    await this.raw.renamePreset(n, name);
    await this.#save(`preset ${n} is renamed`);
  }
  presets(): Preset[] {
    return this.raw.presets();
  }
  /** The presets as the camera has them now, where it can be asked (ONVIF); else the known list. */
  async refreshPresets(): Promise<Preset[]> {
    const raw = this.raw as PtzController & { refreshPresets?: () => Promise<Preset[]> };
    return raw.refreshPresets ? raw.refreshPresets() : raw.presets();
  }
  focus(direction: Direction): Promise<void> {
    this.#user();
    return this.raw.focus(direction);
  }
  iris(direction: Direction): Promise<void> {
    this.#user();
    return this.raw.iris(direction);
  }
  aux(n: number, on: boolean): Promise<void> {
    return this.raw.aux(n, on); // a relay or wiper is not "looking somewhere": park keeps counting
  }
  autoScan(on: boolean): Promise<void> {
    this.#user();
    return this.raw.autoScan(on);
  }
  pattern(action: PatternAction, n?: number): Promise<void> {
    this.#user();
    return this.raw.pattern(action, n);
  }
  async position(): Promise<PtzPosition> {
    if (!this.raw.position) throw new PtzError(`PTZ dome "${this.o.id}" cannot report its position`, 'UNSUPPORTED');
    return this.raw.position();
  }

  async #save(done: string): Promise<void> {
    if (!this.o.savePresets) return;
    try {
      await this.o.savePresets(this.raw.presets());
    } catch (e) {
      // The head did it; only the names are not kept. Said, so the user can retry.
      throw new PtzError(`PTZ dome "${this.o.id}": ${done}, but the preset names were not saved: ${(e as Error).message}`, 'NOT_SAVED');
    }
  }
}
