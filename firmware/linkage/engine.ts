import type { BusEvents, EventBus, LinkageActionResult } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { Action, Rule, Trigger } from './rules.js';
import { inSchedule } from './schedule.js';
import { TimeZoneGuard } from '../core/timezone.js';

export interface ActionResult extends LinkageActionResult {
  action: Action['type'];
}

/**
 * What the rest of the box offers the rules. Each capability is optional: a
 * box without PTZ simply has no `ptzPreset`, and a rule asking for it reports
 * that at firing instead of failing the whole rule.
 */
/** Actions whose targets are channels. */
const CHANNEL_ACTIONS: ReadonlySet<string> = new Set(['record', 'lock', 'snapshot', 'popup']);

export interface LinkageTargets {
  channels(): string[];
  domes?(): string[];
  outputs?(): string[];
  /**
   * Record `channel` from `fromMs`; `untilMs` null means "until told", a number
   * closes the event. `key` names the rule occurrence, so overlapping ones each hold;
   * `trigger` is the rule's trigger type (a channel's weekly schedule records motion and alarms in different half hours).
   */
  record?(channel: string, fromMs: number, untilMs: number | null, key: string, trigger: Trigger['type']): Promise<string>;
  /** Lock a range; `ttlMs` null keeps it until unlocked by hand. Returns the lock id. */
  lock?(channel: string, fromMs: number, toMs: number, ttlMs: number | null, reason: string): Promise<string>;
  unlock?(lockId: string): Promise<void>;
  ptzPreset?(dome: string, preset: number): Promise<void>;
  ptzTour?(dome: string, tour: string): Promise<void>;
  relay?(output: string, on: boolean): Promise<void>;
  buzzer?(pattern: 'continuous' | 'beep', on: boolean): Promise<void>;
  mqtt?(topic: string, payload: Record<string, unknown>): Promise<void>;
  snapshot?(channel: string): Promise<string>;
  popup?(channel: string, seconds: number, rule: string): Promise<void>;
  /** Defaults to an HTTP POST of the JSON body with a 5 s timeout. */
  webhook?(url: string, body: Record<string, unknown>): Promise<string>;
}

export interface LinkageOptions {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  rules: () => Rule[];
  timezone: () => string;
  targets: LinkageTargets;
}

/** One rule active for one subject (a channel, an input, a disk). */
interface Occurrence {
  rule: Rule;
  subject: string;
  startMs: number;
  locks: { channel: string; id: string }[];
  followRelays: { output: string; seconds: number }[];
}

const OFFLINE = new Set(['reconnecting', 'unreachable', 'unauthorized']);
const DISK_BAD = new Set(['failed', 'missing', 'read-only']);

/** Turns bus events into (subject, active) for a trigger, or null when the event is not for it. */
function edgeFor<K extends keyof BusEvents>(trigger: Trigger, name: K, e: BusEvents[K]): { subject: string; active: boolean } | null {
  const channelMatch = (want: string, got: string) => want === '*' || want === got;
  switch (trigger.type) {
    case 'alarm': {
      if (name !== 'alarm') return null;
      const a = e as BusEvents['alarm'];
      return a.input === trigger.input ? { subject: a.input, active: a.active } : null;
    }
    case 'motion':
    case 'tamper': {
      if (name !== trigger.type) return null;
      const m = e as BusEvents['motion'];
      return channelMatch(trigger.channel, m.channel) ? { subject: m.channel, active: m.active } : null;
    }
    case 'videoLoss': {
      if (name !== 'videoLoss') return null;
      const v = e as BusEvents['videoLoss'];
      return channelMatch(trigger.channel, v.channel) ? { subject: v.channel, active: v.lost } : null;
    }
    case 'cameraOffline': {
      if (name !== 'cameraState') return null;
      const c = e as BusEvents['cameraState'];
      if (!channelMatch(trigger.channel, c.channel)) return null;
      if (OFFLINE.has(c.state)) return { subject: c.channel, active: true };
      return c.state === 'streaming' || c.state === 'disabled' ? { subject: c.channel, active: false } : null;
    }
    case 'diskFailed': {
      if (name !== 'diskState') return null;
      const d = e as BusEvents['diskState'];
      if (trigger.disk !== '*' && trigger.disk !== d.disk) return null;
      if (DISK_BAD.has(d.state)) return { subject: d.disk, active: true };
      return d.state === 'ok' ? { subject: d.disk, active: false } : null;
    }
    case 'diskFull': {
      if (name !== 'storageAlarm') return null;
      const s = e as BusEvents['storageAlarm'];
      return s.kind === 'full' || s.kind === 'all-locked' ? { subject: 'store', active: s.active } : null;
    }
  }
}

const WATCHED = ['alarm', 'motion', 'tamper', 'videoLoss', 'cameraState', 'diskState', 'storageAlarm'] as const;

/**
 * The linkage rules: alarm inputs, motion, video loss, camera and disk trouble
 * set off recording, locks, PTZ, relays, the buzzer, MQTT, snapshots, console
 * pop-ups and webhooks. A trigger fires once when it becomes active (inside
 * the rule's schedule) and ends when it clears; every firing is logged and
 * published as a `linkage` event with what each action did.
 */
export class LinkageService implements Service {
  readonly name = 'linkage';
  private unsubscribe: (() => void)[] = [];
  private active = new Map<string, Occurrence>();
  private timers = new Set<Timer>();
  /** Outputs a momentary/follow action switched on and has not switched off yet. */
  private relaysOn = new Map<string, number>();
  private buzzing = 0;

  /** Intl throws on an unknown zone: UTC instead, said once. */
  private readonly zones: TimeZoneGuard;

  constructor(private readonly o: LinkageOptions) {
    this.zones = new TimeZoneGuard(o.log);
  }

  async start(): Promise<void> {
    for (const problem of this.check()) this.o.log.error('linkage rule refers to something that does not exist', problem);
    for (const name of WATCHED) {
      this.unsubscribe.push(this.o.bus.on(name, (e) => this.onEvent(name, e)));
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers.clear();
    // A siren left sounding by a stopped firmware is worse than one cut short.
    const off = [...this.relaysOn.keys()].map((out) => this.o.targets.relay?.(out, false).catch(() => {}));
    if (this.buzzing > 0) off.push(this.o.targets.buzzer?.('beep', false).catch(() => {}));
    await Promise.all(off);
    this.relaysOn.clear();
    this.buzzing = 0;
    this.active.clear();
  }

  /** References to channels, domes and outputs that do not exist: one entry per problem. */
  check(rules = this.o.rules()): { rule: string; problem: string }[] {
    const t = this.o.targets;
    const channels = new Set(t.channels());
    const domes = t.domes ? new Set(t.domes()) : null;
    const outputs = t.outputs ? new Set(t.outputs()) : null;
    const out: { rule: string; problem: string }[] = [];
    for (const r of rules) {
      const chans = [
        ...('channel' in r.trigger ? [r.trigger.channel] : []),
        ...r.actions.flatMap((a) => ('channels' in a ? a.channels : 'channel' in a ? [a.channel] : [])),
      ];
      for (const c of chans) if (c !== '*' && !channels.has(c)) out.push({ rule: r.id, problem: `unknown channel "${c}"` });
      for (const a of r.actions) {
        if ((a.type === 'ptzPreset' || a.type === 'ptzTour') && domes && !domes.has(a.dome)) out.push({ rule: r.id, problem: `unknown PTZ dome "${a.dome}"` });
        if (a.type === 'relay' && outputs && !outputs.has(a.output)) out.push({ rule: r.id, problem: `unknown relay output "${a.output}"` });
      }
    }
    return out;
  }

  /** Rules currently active, for status pages. */
  status(): { rule: string; subject: string; since: number }[] {
    return [...this.active.values()].map((o) => ({ rule: o.rule.id, subject: o.subject, since: o.startMs }));
  }

  private onEvent<K extends keyof BusEvents>(name: K, e: BusEvents[K]): void {
    for (const rule of this.o.rules()) {
      if (!rule.enabled) continue;
      const edge = edgeFor(rule.trigger, name, e);
      if (!edge) continue;
      const key = `${rule.id}\u0000${edge.subject}`;
      const current = this.active.get(key);
      if (edge.active && !current) {
        const now = this.o.clock.now();
        if (!inSchedule(rule.schedule, now, this.zones.zone(this.o.timezone()))) {
          this.o.log.debug('linkage trigger outside the rule schedule', { rule: rule.id, subject: edge.subject });
          continue;
        }
        const occ: Occurrence = { rule, subject: edge.subject, startMs: now, locks: [], followRelays: [] };
        this.active.set(key, occ);
        void this.run(occ, 'start');
      } else if (!edge.active && current) {
        this.active.delete(key);
        void this.run(current, 'end');
      }
    }
  }

  private async run(occ: Occurrence, phase: 'start' | 'end'): Promise<void> {
    const results: ActionResult[] = [];
    for (const action of occ.rule.actions) {
      for (const target of this.targetsOf(action, occ)) {
        try {
          // The config may name a channel removed since (or never added): say so, rather than let a target guess.
          if (CHANNEL_ACTIONS.has(action.type) && !this.o.targets.channels().includes(target)) throw new Error(`unknown channel "${target}"`);
          const detail = await (phase === 'start' ? this.begin(action, target, occ) : this.finish(action, target, occ));
          if (detail !== null) results.push({ action: action.type, target, ok: true, detail });
        } catch (err) {
          results.push({ action: action.type, target, ok: false, detail: (err as Error).message });
        }
      }
    }
    const at = this.o.clock.now();
    const failed = results.filter((r) => !r.ok);
    const fields = { rule: occ.rule.id, subject: occ.subject, phase, results };
    if (failed.length) this.o.log.warn('linkage rule fired; some actions failed', fields);
    else this.o.log.info('linkage rule fired', fields);
    this.o.bus.emit('linkage', { ...fields, at });
  }

  /** The channels (or the one dome/output/url) an action applies to for this occurrence. */
  private targetsOf(a: Action, occ: Occurrence): string[] {
    const expand = (c: string) => (c !== '*' ? [c] : 'channel' in occ.rule.trigger ? [occ.subject] : this.o.targets.channels());
    switch (a.type) {
      case 'record':
      case 'lock':
      case 'snapshot':
        return [...new Set(a.channels.flatMap(expand))];
      case 'popup':
        return expand(a.channel).slice(0, 1);
      case 'ptzPreset':
      case 'ptzTour':
        return [a.dome];
      case 'relay':
        return [a.output];
      case 'webhook':
        return [redactUrl(a.url)];
      case 'buzzer':
        return ['buzzer'];
      case 'mqtt':
        return [a.topic];
    }
  }

  private need<F>(f: F | undefined, what: string): F {
    if (f === undefined) throw new Error(`this box has no ${what}`);
    return f;
  }

  private payload(occ: Occurrence, active: boolean): Record<string, unknown> {
    return { rule: occ.rule.id, name: occ.rule.name, trigger: occ.rule.trigger.type, subject: occ.subject, active, at: new Date(this.o.clock.now()).toISOString() };
  }

  private later(ms: number, fn: () => void): void {
    const t = this.o.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private switchRelay(output: string, on: boolean): Promise<void> {
    const relay = this.need(this.o.targets.relay, 'relay outputs').bind(this.o.targets);
    const n = this.relaysOn.get(output) ?? 0;
    if (on) this.relaysOn.set(output, n + 1);
    else if (n <= 1) this.relaysOn.delete(output);
    else {
      // Another occurrence still holds it on.
      this.relaysOn.set(output, n - 1);
      return Promise.resolve();
    }
    return relay(output, on);
  }

  private offLater(output: string, seconds: number): void {
    this.later(seconds * 1000, () => void this.switchRelay(output, false).catch((err) => this.o.log.warn('relay off failed', { output, error: (err as Error).message })));
  }

  private async begin(a: Action, target: string, occ: Occurrence): Promise<string | null> {
    const t = this.o.targets;
    const start = occ.startMs;
    switch (a.type) {
      case 'record':
        return this.need(t.record, 'recording control').call(t, target, start - a.preSec * 1000, null, occurrenceKey(occ), occ.rule.trigger.type);
      case 'lock': {
        // Locked from the start, so evidence is safe even if the trigger never ends; widened at the end.
        const id = await this.need(t.lock, 'recording locks').call(t, target, start - a.preSec * 1000, start + a.postSec * 1000, a.expiresHours && a.expiresHours * 3_600_000, occ.rule.id);
        occ.locks.push({ channel: target, id });
        return `locked ${target} from ${a.preSec} s before`;
      }
      case 'ptzPreset':
        await this.need(t.ptzPreset, 'PTZ').call(t, a.dome, a.preset);
        return `preset ${a.preset}`;
      case 'ptzTour':
        await this.need(t.ptzTour, 'PTZ').call(t, a.dome, a.tour);
        return `tour ${a.tour}`;
      case 'relay':
        await this.switchRelay(a.output, true);
        if (a.mode === 'momentary') this.offLater(a.output, a.seconds);
        if (a.mode === 'follow') occ.followRelays.push({ output: a.output, seconds: a.seconds });
        return a.mode === 'momentary' ? `on for ${a.seconds} s` : a.mode === 'follow' ? 'on while active' : 'latched on';
      case 'buzzer': {
        const buzzer = this.need(t.buzzer, 'buzzer').bind(t);
        await buzzer(a.pattern, true);
        this.buzzing++;
        this.later(a.seconds * 1000, () => {
          if (--this.buzzing === 0) void buzzer(a.pattern, false).catch(() => {});
        });
        return `${a.pattern} for ${a.seconds} s`;
      }
      case 'mqtt':
        await this.need(t.mqtt, 'MQTT connection').call(t, a.topic, this.payload(occ, true));
        return 'published';
      case 'snapshot':
        return this.need(t.snapshot, 'snapshots').call(t, target);
      case 'popup':
        await this.need(t.popup, 'local console').call(t, target, a.seconds, occ.rule.name);
        return `shown for ${a.seconds} s`;
      case 'webhook':
        return (t.webhook ?? postJson).call(t, a.url, this.payload(occ, true));
    }
  }

  private async finish(a: Action, target: string, occ: Occurrence): Promise<string | null> {
    const t = this.o.targets;
    const end = this.o.clock.now();
    switch (a.type) {
      case 'record':
        return this.need(t.record, 'recording control').call(t, target, occ.startMs - a.preSec * 1000, end + a.postSec * 1000, occurrenceKey(occ), occ.rule.trigger.type);
      case 'lock': {
        const id = await this.need(t.lock, 'recording locks').call(t, target, occ.startMs - a.preSec * 1000, end + a.postSec * 1000, a.expiresHours && a.expiresHours * 3_600_000, occ.rule.id);
        for (const old of occ.locks.filter((l) => l.channel === target)) await t.unlock?.(old.id);
        return `locked ${target} until ${a.postSec} s after the end (lock ${id})`;
      }
      case 'relay': {
        const follow = occ.followRelays.find((f) => f.output === a.output);
        if (!follow) return null;
        if (follow.seconds === 0) await this.switchRelay(a.output, false);
        else this.offLater(a.output, follow.seconds);
        return follow.seconds === 0 ? 'off' : `off in ${follow.seconds} s`;
      }
      case 'mqtt':
        await this.need(t.mqtt, 'MQTT connection').call(t, a.topic, this.payload(occ, false));
        return 'published';
      case 'webhook':
        if (!a.onEnd) return null;
        return (t.webhook ?? postJson).call(t, a.url, this.payload(occ, false));
      default:
        return null;
    }
  }
}

/** Names one occurrence of a rule (the same at its start and its end). */
function occurrenceKey(occ: Occurrence): string {
  return `rule ${occ.rule.id} ${occ.subject}`;
}

/** The URL without user:password, for logs and events. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return 'invalid URL';
  }
}

async function postJson(url: string, body: Record<string, unknown>): Promise<string> {
  // fetch refuses URLs with credentials: they travel as a Basic header instead.
  const u = new URL(url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  const res = await fetch(u, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5000), redirect: 'error' });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return `HTTP ${res.status}`;
}
