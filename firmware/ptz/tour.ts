// Tours and park, run by the firmware (not the dome's own tour memory) so
// they work on any Pelco dome and follow the injectable clock.
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { PtzController } from './controller.js';

export interface TourStep {
  preset: number;
  /** Time from this step's recall command to the next step's, travel included. */
  dwellMs: number;
  /** Recall speed 0..1, for domes that take one (PelcoControllerOptions.presetSpeed). */
  speed?: number;
}

export interface Tour {
  name: string;
  steps: TourStep[];
  /** Start over after the last step (default true). */
  loop?: boolean;
}

export function validateTour(tour: Tour): Tour {
  if (!tour.steps.length) throw new RangeError(`tour "${tour.name}" has no steps`);
  for (const [i, s] of tour.steps.entries()) {
    if (!Number.isInteger(s.preset) || s.preset < 1 || s.preset > 255) {
      throw new RangeError(`tour "${tour.name}" step ${i + 1}: preset must be 1..255, got ${s.preset}`);
    }
    // A zero dwell would spin the timer loop without ever letting the dome arrive.
    if (!Number.isFinite(s.dwellMs) || s.dwellMs < 100) {
      throw new RangeError(`tour "${tour.name}" step ${i + 1}: dwell must be at least 100 ms, got ${s.dwellMs}`);
    }
  }
  return tour;
}

export class TourRunner {
  #timer: Timer | undefined;
  #index = -1;
  #running = false;

  constructor(
    private readonly controller: PtzController,
    readonly tour: Tour,
    private readonly clock: Clock,
    private readonly log?: Logger,
    private readonly onEnd?: () => void,
  ) {
    validateTour(tour);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Index of the step whose dwell is in progress, -1 before the start. */
  get step(): number {
    return this.#index;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#index = -1;
    this.#advance();
  }

  stop(): void {
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    this.#running = false;
    this.onEnd?.();
  }

  #advance(): void {
    if (!this.#running) return;
    const steps = this.tour.steps;
    let next = this.#index + 1;
    if (next >= steps.length) {
      if (this.tour.loop === false) return this.stop();
      next = 0;
    }
    this.#index = next;
    const step = steps[next]!;
    // The dwell timer starts with the command, not when the bus gets to it, so
    // a slow or busy bus does not stretch the tour.
    this.#timer = this.clock.setTimeout(() => this.#advance(), step.dwellMs);
    this.controller.gotoPreset(step.preset, step.speed).catch((e: unknown) => {
      // One failed recall (dome unplugged) must not end the tour: the next step retries.
      this.log?.warn('tour step failed', { tour: this.tour.name, preset: step.preset, error: String(e) });
    });
  }
}

export interface ParkOptions {
  /** Preset to return to. */
  preset: number;
  /** Idle time before returning, in ms. */
  idleMs: number;
}

/** Returns the dome to its home preset after `idleMs` without user commands. */
export class ParkTimer {
  #timer: Timer | undefined;
  #parked = false;

  constructor(
    private readonly controller: PtzController,
    readonly options: ParkOptions,
    private readonly clock: Clock,
    private readonly log?: Logger,
  ) {
    if (!Number.isFinite(options.idleMs) || options.idleMs < 1000) {
      throw new RangeError(`park idle time must be at least 1000 ms, got ${options.idleMs}`);
    }
  }

  get parked(): boolean {
    return this.#parked;
  }

  /** A user command: restart the idle countdown. */
  activity(): void {
    this.#parked = false;
    this.#arm();
  }

  /** Stop counting (a tour is running, or the service stops). */
  suspend(): void {
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.suspend();
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#parked = true;
      this.log?.info('parking', { preset: this.options.preset });
      this.controller.gotoPreset(this.options.preset).catch((e: unknown) => {
        this.#parked = false;
        this.log?.warn('park failed', { preset: this.options.preset, error: String(e) });
      });
    }, this.options.idleMs);
  }
}
