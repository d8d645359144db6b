/**
 * A long-running part of the firmware (storage, recorder, web, MQTT...).
 *
 * Contract, relied on by the Supervisor:
 * - the constructor only stores its dependencies: no I/O, no timers;
 * - start() resolves when the service is serving, or throws; it may be called
 *   again after a failure or a stop;
 * - stop() releases everything start() acquired, even after a failed or
 *   half-finished start, and is safe to call twice.
 */
export interface Service {
  readonly name: string;
  /** Names of services that must be running before this one starts. */
  readonly dependsOn?: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceStatus {
  name: string;
  state: import('./bus.js').ServiceState;
  since: number;
  attempts: number;
  lastError?: string;
  dependsOn: string[];
}
