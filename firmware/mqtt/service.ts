import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { EventBus } from '../core/bus.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { Config } from '../config/schema.js';
import { writeDurably } from '../config/durable-file.js';
import { CommandError, CommandRegistry, type CommandHandler, type CommandName } from './commands.js';
import { brokerCa } from './broker-check.js';
import { describeFailure, runCommand, type AppliedCommand } from './dispatch.js';
import { discoveryFor, EntityRegistry, entityKey, type DeviceInfo, type EntitySpec } from './entities.js';
import { EventJournal } from './journal.js';
import { messagesFor, PUBLISHED, type EventData } from './messages.js';
import { slug, Topics } from './topics.js';

export interface MqttSettings {
  mqtt: Config['mqtt'];
  /** system.name: the device name in Home Assistant, and the device id unless mqtt.deviceId is set. */
  systemName: string;
}

export interface MqttServiceDeps {
  bus: EventBus;
  log: Logger;
  clock?: Clock;
  /** Read at every start(): a changed setting takes effect when the service restarts. */
  settings: () => MqttSettings;
  /** Holds `mqtt/queue.jsonl` (the offline queue) and `mqtt/node-id`. */
  dataDir: string;
  device: { model: string; manufacturer: string; swVersion: string };
  /** Undelivered events kept while the broker is away (default 10,000). */
  queueLimit?: number;
  /** First reconnect delay, doubled per failure up to reconnectMaxMs (defaults 1 s, 30 s). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long an undelivered event may wait before it is fsynced (default 100 ms). */
  flushMs?: number;
  /** A command handler slower than this gets an error reply (default 10 s). */
  commandTimeoutMs?: number;
}

export interface MqttStatus {
  connected: boolean;
  deviceId?: string;
  queued: number;
  dropped: number;
  delivered: number;
  lastError?: string;
}

/** Events in flight at once: enough to fill the link, few enough to keep mqtt.js quiet (MaxListeners). */
const WINDOW = 64;
/** Larger packets are discarded by the broker for us (MQTT 5); up to it, oversized commands get an error reply. */
const MAX_PACKET = 4 * 1024 * 1024;

/**
 * Reports the box to an MQTT broker the way zigbee2mqtt does: retained state
 * topics, an event stream, Home Assistant discovery, `.../set` commands with
 * replies, an availability topic with a last will, and an offline queue so
 * alarms raised while the broker is away arrive, in order, when it is back.
 */
export class MqttService implements Service {
  readonly name = 'mqtt';
  readonly dependsOn: readonly string[] = [];
  private readonly clock: Clock;
  private readonly entities = new EntityRegistry();
  private readonly commands = new CommandRegistry();
  /** Retained states reported directly (relays, usage...), re-sent after every reconnect. */
  private readonly states = new Map<string, { topicOf: (t: Topics) => string; payload: string }>();
  /** The newest acknowledged retained state per topic from bus events, re-sent after every reconnect (a broker without persistence forgets them). */
  private readonly eventStates = new Map<string, { seq: number; payload: string }>();
  private readonly published = new Map<string, string[]>();
  private topicsValue?: Topics;
  private deviceInfo?: DeviceInfo;
  private journal?: EventJournal<EventData>;
  private client?: MqttClient;
  private options?: IClientOptions & { url: string };
  private generation = 0;
  private connected = false;
  private stopping = true;
  private failures = 0;
  private reconnectTimer?: Timer;
  private lastSent = 0;
  private inflight = 0;
  private delivered = 0;
  private lastError?: string;
  private lastLogged?: { reason: string; at: number };
  private discoveryTimer?: Timer;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: MqttServiceDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Topics of the running service (after start()). */
  get topics(): Topics {
    if (!this.topicsValue) throw new Error('mqtt service not started');
    return this.topicsValue;
  }

  /** Makes an entity known to Home Assistant; returns the function that removes it again. */
  registerEntity(spec: EntitySpec): () => void {
    return this.entities.register(spec);
  }

  /** The handler for one command; returns the function that unregisters it. */
  handleCommand<K extends CommandName>(name: K, handler: CommandHandler<K>): () => void {
    return this.commands.register(name, handler);
  }

  reportRelay(relay: string, on: boolean): void {
    this.reportState(`relay/${relay}`, (t) => t.relay(relay), { state: on ? 'ON' : 'OFF' });
  }
  reportArmed(armed: boolean): void {
    this.reportState('armed', (t) => t.armed(), { state: armed ? 'ON' : 'OFF' });
  }
  reportRecording(channel: string, on: boolean): void {
    this.reportState(`recording/${channel}`, (t) => t.channel(channel, 'recording'), { state: on ? 'ON' : 'OFF' });
  }
  reportDiskUsage(disk: string, usage: { usedPercent: number; usedBytes?: number; totalBytes?: number }): void {
    this.reportState(`usage/${disk}`, (t) => t.diskUsage(disk), {
      used_percent: Math.round(usage.usedPercent * 10) / 10,
      ...(usage.usedBytes !== undefined ? { used_bytes: usage.usedBytes } : {}),
      ...(usage.totalBytes !== undefined ? { total_bytes: usage.totalBytes } : {}),
    });
  }

  status(): MqttStatus {
    return {
      connected: this.connected,
      ...(this.topicsValue ? { deviceId: this.topicsValue.deviceId } : {}),
      queued: this.journal?.size ?? 0,
      dropped: this.journal?.dropped ?? 0,
      delivered: this.delivered,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async start(): Promise<void> {
    const { mqtt: cfg, systemName } = this.deps.settings();
    const deviceId = cfg.deviceId ?? slug(systemName);
    const topics = new Topics(cfg.baseTopic, deviceId, cfg.discoveryPrefix);
    const dir = join(this.deps.dataDir, 'mqtt');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.deviceInfo = { nodeId: await this.nodeId(dir), name: systemName, ...this.deps.device };
    const options = await this.clientOptions(cfg, deviceId, topics);
    this.topicsValue = topics;
    const journal = new EventJournal<EventData>({
      file: join(dir, 'queue.jsonl'),
      limit: this.deps.queueLimit ?? 10_000,
      clock: this.clock,
      log: this.deps.log,
      flushMs: this.deps.flushMs,
    });
    const r = await journal.open();
    this.journal = journal;
    if (r.recovered || r.tornTail || r.corruptLines || r.droppedOverLimit) this.deps.log.info('offline queue recovered', { ...r });
    this.stopping = false;
    this.lastSent = 0;
    // Topics follow the settings read above: states kept under the old ones are not this start's.
    this.eventStates.clear();
    for (const type of PUBLISHED) {
      this.unsubscribe.push(this.deps.bus.on(type, (e) => this.enqueue({ type, ...e } as EventData)));
    }
    this.unsubscribe.push(this.entities.onChange((key, spec) => this.onEntityChange(key, spec)));
    this.connect(options);
    // Resolves without waiting for the broker: the queue serves while it is away.
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.reconnectTimer) this.clock.clearTimeout(this.reconnectTimer);
    if (this.discoveryTimer) this.clock.clearTimeout(this.discoveryTimer);
    this.reconnectTimer = this.discoveryTimer = undefined;
    const client = this.client;
    const wasConnected = this.connected;
    this.client = undefined;
    this.connected = false;
    this.generation++;
    if (client) {
      // A clean stop says offline itself; the last will covers crashes only.
      if (wasConnected) await this.bounded(client.publishAsync(this.topics.availability, 'offline', { qos: 1, retain: true }), 2000).catch(() => {});
      await this.bounded(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000).catch(() => client.end(true));
    }
    const journal = this.journal;
    this.journal = undefined;
    await journal?.close();
  }

  /** A random id made once per box and kept: unique_ids survive a rename of the box. */
  private async nodeId(dir: string): Promise<string> {
    const file = join(dir, 'node-id');
    try {
      const id = (await readFile(file, 'utf8')).trim();
      if (/^[a-z0-9_]{4,64}$/.test(id)) return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const id = `dvr_${randomBytes(6).toString('hex')}`;
    await writeDurably(file, id + '\n');
    return id;
  }

  private async clientOptions(cfg: Config['mqtt'], deviceId: string, topics: Topics): Promise<IClientOptions & { url: string }> {
    const ca = await brokerCa(cfg.tls);
    return {
      url: cfg.url,
      protocolVersion: 5,
      clientId: cfg.clientId ?? `dvr-${deviceId}`.slice(0, 64),
      ...(cfg.username !== null ? { username: cfg.username } : {}),
      ...(cfg.password !== null ? { password: cfg.password } : {}),
      clean: true,
      // We reconnect ourselves, with backoff and a fresh client each time (see connect()).
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      properties: { maximumPacketSize: MAX_PACKET },
      will: { topic: topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(ca ? { ca } : {}),
      rejectUnauthorized: !cfg.tls.insecure,
    };
  }

  /**
   * One client per connection attempt. mqtt.js would replay its own in-flight
   * messages after a reconnect; we replay from the offline queue instead, so
   * the queue is the one source of truth for what the broker has.
   */
  private connect(options = this.options): void {
    if (!options || this.stopping) return;
    this.options = options;
    // Never two clients with one client id: the broker would make them take turns kicking each other off.
    this.client?.end(true);
    const gen = ++this.generation;
    const { url, ...opts } = options;
    const client = mqtt.connect(url, opts);
    this.client = client;
    client.on('connect', () => {
      if (gen === this.generation) this.onConnect(client);
    });
    client.on('message', (topic, payload, packet) => {
      if (gen === this.generation) this.onMessage(client, topic, payload, packet);
    });
    client.on('error', (err) => {
      if (gen === this.generation) this.noteFailure(err);
    });
    client.on('close', () => {
      if (gen === this.generation) this.onClose(client);
    });
  }

  private onConnect(client: MqttClient): void {
    const t = this.topics;
    this.connected = true;
    this.failures = 0;
    this.lastError = undefined;
    this.lastLogged = undefined;
    this.deps.log.info('connected to the MQTT broker', { url: this.options?.url, deviceId: t.deviceId, queued: this.journal?.size ?? 0 });
    const fail = (what: string) => (err: unknown) => this.deps.log.warn(`mqtt: ${what} failed`, { error: String(err) });
    client.publishAsync(t.availability, 'online', { qos: 1, retain: true }).catch(fail('availability'));
    // nl (no local): our own messages are not echoed back to us.
    client.subscribeAsync([...t.commandFilters, t.haStatus], { qos: 1, nl: true }).catch(fail('subscribe'));
    for (const { topicOf, payload } of this.states.values()) client.publishAsync(topicOf(t), payload, { qos: 1, retain: true }).catch(fail('state'));
    // Before the queue: whatever it still holds for the same topics is newer and lands last.
    for (const [topic, { payload }] of this.eventStates) client.publishAsync(topic, payload, { qos: 1, retain: true }).catch(fail('state'));
    this.scheduleDiscovery();
    // Everything not acknowledged on an earlier connection is sent again, oldest first, with its id.
    this.lastSent = 0;
    this.inflight = 0;
    this.pump();
  }

  private onClose(client: MqttClient): void {
    const was = this.connected;
    this.connected = false;
    client.end(true);
    if (this.stopping || this.reconnectTimer) return;
    if (was) this.deps.log.warn('lost the MQTT broker; queueing events until it is back', { url: this.options?.url });
    const delay = Math.min(this.deps.reconnectMaxMs ?? 30_000, (this.deps.reconnectBaseMs ?? 1000) * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  /** One clear line per distinct reason (and a reminder each minute), never the password. */
  private noteFailure(err: Error & { code?: string | number }): void {
    const reason = describeFailure(err, this.options?.username);
    this.lastError = reason;
    const now = this.clock.monotonic();
    if (this.lastLogged?.reason === reason && now - this.lastLogged.at < 60_000) return;
    this.lastLogged = { reason, at: now };
    this.deps.log.error('cannot connect to the MQTT broker; retrying with backoff', { url: this.options?.url, reason });
  }

  private enqueue(data: EventData): void {
    if (!this.journal) return;
    this.journal.append(data);
    this.pump();
  }

  /** Sends queued events in order, at most WINDOW unacknowledged at once. */
  private pump(): void {
    const client = this.client;
    const journal = this.journal;
    if (!client || !journal || !this.connected) return;
    const gen = this.generation;
    while (this.inflight < WINDOW) {
      const rec = journal.next(this.lastSent);
      if (!rec) return;
      this.lastSent = rec.seq;
      let messages;
      try {
        messages = messagesFor(rec, this.topics);
      } catch (err) {
        // One event that cannot be serialised must not block the queue behind it.
        this.deps.log.error('mqtt: event dropped, cannot be serialised', { seq: rec.seq, type: rec.data.type, error: String(err) });
        journal.ack(rec.seq);
        continue;
      }
      this.inflight++;
      const sent = messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain }));
      Promise.all(sent).then(
        () => {
          journal.ack(rec.seq);
          this.delivered++;
          for (const m of messages) if (m.retain && (this.eventStates.get(m.topic)?.seq ?? 0) < rec.seq) this.eventStates.set(m.topic, { seq: rec.seq, payload: m.payload });
          if (gen !== this.generation) return;
          this.inflight--;
          this.pump();
        },
        // The event stays queued. Usually the connection is going anyway; if not, start a
        // new one, so everything unacknowledged is resent from the oldest, in order.
        (err: unknown) => {
          if (gen !== this.generation || !this.connected) return;
          this.deps.log.warn('mqtt: publish failed; reconnecting', { seq: rec.seq, error: String(err) });
          client.end(true);
        },
      );
    }
  }

  /** Kept by key (the topic depends on settings read at start), and published whenever connected. */
  private reportState(key: string, topicOf: (t: Topics) => string, fields: Record<string, unknown>): void {
    const at = this.clock.now();
    const state = { topicOf, payload: JSON.stringify({ ...fields, time: new Date(at).toISOString(), at }) };
    this.states.set(key, state);
    if (this.connected && this.client) this.client.publishAsync(topicOf(this.topics), state.payload, { qos: 1, retain: true }).catch(() => {});
  }

  /** Discovery for everything, soon: coalesces a reconnect and Home Assistant's birth message. */
  private scheduleDiscovery(): void {
    if (this.discoveryTimer) return;
    this.discoveryTimer = this.clock.setTimeout(() => {
      this.discoveryTimer = undefined;
      void this.publishDiscovery().catch((err: unknown) => this.deps.log.warn('mqtt: discovery failed', { error: String(err) }));
    }, 50);
  }

  private async publishDiscovery(): Promise<void> {
    const current = new Set<string>();
    for (const spec of this.entities.all()) {
      if (!this.connected) return;
      current.add(entityKey(spec));
      await this.publishEntity(entityKey(spec), spec);
    }
    // Entities removed while we were offline: clear their configs now.
    for (const key of [...this.published.keys()]) if (!current.has(key)) await this.publishEntity(key, null);
  }

  private async publishEntity(key: string, spec: EntitySpec | null): Promise<void> {
    const client = this.client;
    if (!client || !this.connected || !this.deviceInfo) return;
    const t = this.topics;
    const configs = spec ? discoveryFor(spec, t, this.deviceInfo) : [];
    const topics = configs.map((d) => t.discovery(d.component, this.deviceInfo!.nodeId, d.objectId));
    // A retained empty payload is how Home Assistant is told an entity is gone.
    for (const old of this.published.get(key) ?? []) if (!topics.includes(old)) await client.publishAsync(old, '', { qos: 1, retain: true });
    for (const [i, d] of configs.entries()) await client.publishAsync(topics[i], JSON.stringify(d.config), { qos: 1, retain: true });
    if (spec) this.published.set(key, topics);
    else this.published.delete(key);
  }

  private onEntityChange(key: string, spec: EntitySpec | null): void {
    void this.publishEntity(key, spec).catch((err: unknown) => this.deps.log.warn('mqtt: discovery failed', { entity: key, error: String(err) }));
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const t = this.topics;
    if (topic === t.haStatus) {
      // Home Assistant restarted and forgot non-retained state: tell it again what exists.
      if (payload.toString('utf8').trim() === 'online') this.scheduleDiscovery();
      return;
    }
    if (!topic.startsWith(`${t.root}/`) || !topic.endsWith('/set')) return;
    void this.onCommand(client, topic.slice(t.root.length + 1), payload, packet);
  }

  private async onCommand(client: MqttClient, rest: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const props = packet.properties ?? {};
    const ctx = {
      entities: this.entities,
      commands: this.commands,
      log: this.deps.log,
      bounded: <T>(p: Promise<T>) => this.bounded(p, this.deps.commandTimeoutMs ?? 10_000),
    };
    const { body, applied } = await runCommand(rest, payload, ctx, props.correlationData);
    if (applied) this.afterCommand(applied);
    const requested = props.responseTopic;
    // Any reply topic the requester names, as MQTT 5 intends, but never one with wildcards.
    const to = typeof requested === 'string' && requested.length > 0 && requested.length <= 256 && !/[+#]/.test(requested) ? requested : this.topics.response;
    const correlation = props.correlationData;
    await client
      .publishAsync(to, JSON.stringify(body), { qos: 1, ...(correlation ? { properties: { correlationData: correlation } } : {}) })
      .catch(() => {});
  }

  /** A switch in Home Assistant shows the new state once the handler accepted it. */
  private afterCommand(c: AppliedCommand): void {
    if (c.name === 'relay') this.reportRelay(c.args.relay, c.args.on);
    else if (c.name === 'recording') this.reportRecording(c.args.channel, c.args.on);
    else if (c.name === 'arm') this.reportArmed(c.args.armed);
  }

  private bounded<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new CommandError(`no answer within ${ms} ms`)), ms);
      timer.unref?.();
      p.then(
        (v) => {
          this.clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.clock.clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}
