import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { TimeZoneGuard } from '../core/timezone.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { RecordSchedule } from '../config/recording.js';
import type { RecordingSink } from './nvr-service.js';
import { holdRecords, SlotCache, slotMode, type HoldKind, type SlotMode } from './record-schedule.js';

/** continuous: everything is recorded; events: only around linkage events and manual recording; off: nothing. A schedule replaces the mode. */
export type RecordMode = 'continuous' | 'events' | 'off';

export interface RecordGateOptions {
  store: RecordingSink;
  clock: Clock;
  log: Logger;
  mode(channel: string): RecordMode;
  /** How far back an event may reach in `events` mode (the longest pre-record of the rules that record the channel). */
  preRecordMs(channel: string): number;
  /** Memory bound of one channel's pre-record buffer, all streams together (default 24 MiB). */
  maxBufferBytes?: number;
  /** A channel's weekly schedule; when there is one, it decides instead of `mode`. */
  schedule?(channel: string): RecordSchedule | null;
  /** The IANA zone the schedules are drawn in (system.timezone; default UTC). */
  timezone?(): string;
}

/** One reason to record: a linkage rule occurrence, the channel's motion (scheduled) or the manual switch. µs; `until` null: until told. */
interface Hold {
  kind: HoldKind;
  from: number;
  until: number | null;
}

/** The gate's own hold for a scheduled channel's motion; linkage keys start with "rule ". */
const MOTION_KEY = 'schedule motion';

interface Buffered {
  info: StreamInfo;
  frame: Frame;
}

interface ChannelState {
  holds: Map<string, Hold>;
  /** The newest description of each stream (set before its frames). */
  latest: Map<StreamKind, StreamInfo>;
  /** Frames kept for pre-record, per stream, in arrival order. */
  buffer: Map<StreamKind, Buffered[]>;
  bytes: number;
  /** The description last handed to the store, per stream. */
  sent: Map<StreamKind, StreamInfo>;
  /** Video streams that got their first keyframe in the current recording run. */
  running: Set<StreamKind>;
  warnedFull: boolean;
}

const isVideo = (s: StreamKind) => s !== 'audio';

/**
 * Sits between the channels and the recording store and decides what is
 * recorded. In `continuous` mode it passes everything through. In `events`
 * mode it keeps the last few seconds in memory (whole GOPs, so a recording
 * can start on a keyframe before the event) and writes only while some
 * reason holds: a linkage rule's `record` action (from its pre-record to its
 * post-record time) or the manual switch. Each run starts on a keyframe;
 * a pause between runs longer than the store's gap bound shows on the
 * timeline as a gap. A channel with a weekly schedule goes the `events` way
 * with the half hour of each frame deciding: `C` writes everything, `M` the
 * channel's own motion holds (and motion-triggered rules), `A` the other
 * rules' holds, `E` both, `-` none; the manual switch records in any.
 */
export class RecordGate implements RecordingSink {
  private channels = new Map<string, ChannelState>();
  private slots = new SlotCache();
  private readonly zones: TimeZoneGuard;

  constructor(private readonly o: RecordGateOptions) {
    this.zones = new TimeZoneGuard(o.log);
  }

  /** Intl throws on an unknown zone, and that would be per frame: UTC instead, said once. */
  private zone(): string {
    return this.zones.zone(this.o.timezone?.() ?? 'UTC');
  }

  private state(channel: string): ChannelState {
    let s = this.channels.get(channel);
    if (!s) {
      s = { holds: new Map(), latest: new Map(), buffer: new Map(), bytes: 0, sent: new Map(), running: new Set(), warnedFull: false };
      this.channels.set(channel, s);
    }
    return s;
  }

  setStreamInfo(channel: string, stream: StreamKind, info: StreamInfo): void {
    // Handed to the store with the next frame recorded: a buffered frame may still carry the old one.
    this.state(channel).latest.set(stream, info);
  }

  append(channel: string, stream: StreamKind, frame: Frame): boolean {
    const schedule = this.o.schedule?.(channel) ?? null;
    const mode = schedule ? 'events' : this.o.mode(channel);
    if (mode === 'off') return true;
    const s = this.state(channel);
    const info = s.latest.get(stream);
    if (!info) throw new Error(`${channel}/${stream}: setStreamInfo() before the first frame`);
    if (mode === 'continuous') {
      if (s.bytes > 0) this.dropBuffer(s);
      this.send(s, channel, stream, info);
      return this.o.store.append(channel, stream, frame);
    }
    const slot = schedule && this.slots.at(frame.time / 1000, this.zone());
    const from = this.recording(s, frame.time, schedule && slot && { mode: slotMode(schedule, slot), fromUs: slot.from * 1000 });
    if (from !== null) {
      // A keyframe at or before the start is where the recording starts: nothing buffered is needed.
      if (s.bytes > 0 && isVideo(stream) && frame.keyframe && frame.time <= from) this.dropBuffer(s);
      else if (s.bytes > 0) this.flushBuffer(channel, s, from);
      return this.pass(channel, s, stream, info, frame);
    }
    s.running.clear();
    this.keep(channel, s, stream, info, frame);
    return true;
  }

  async closeStream(channel: string, stream: StreamKind): Promise<void> {
    const s = this.channels.get(channel);
    if (s) {
      s.bytes -= (s.buffer.get(stream) ?? []).reduce((n, b) => n + b.frame.data.byteLength, 0);
      s.buffer.delete(stream);
      s.latest.delete(stream);
      s.sent.delete(stream);
      s.running.delete(stream);
    }
    await this.o.store.closeStream(channel, stream);
  }

  /**
   * Records `channel` from `fromMs` (as far back as the buffer reaches) until
   * `untilMs`, or until called again with a number when `untilMs` is null.
   * `key` names the reason, so overlapping reasons each keep it recording.
   */
  record(channel: string, key: string, fromMs: number, untilMs: number | null, kind: HoldKind = key === 'manual' ? 'manual' : 'alarm'): string {
    const schedule = this.o.schedule?.(channel) ?? null;
    if (!schedule) {
      const mode = this.o.mode(channel);
      if (mode === 'continuous') return 'already recording continuously';
      if (mode === 'off') throw new Error(`recording is off for channel ${channel}`);
    }
    const s = this.state(channel);
    const old = s.holds.get(key);
    const from = Math.min(old?.from ?? Infinity, fromMs * 1000);
    s.holds.set(key, { kind, from, until: untilMs === null ? null : untilMs * 1000 });
    const now = schedule && this.slotMode(schedule, this.o.clock.now());
    if (now === 'C') return 'recording continuously (schedule)';
    // Kept all the same: the hold records once its kind's half hours come, while it lasts.
    if (!holdRecords(now, kind)) return `the schedule records no ${kind} events now (${now})`;
    if (untilMs === null) {
      const reach = this.bufferedSince(s);
      if (reach === null) return 'recording from the next keyframe (nothing buffered)';
      return `recording from ${Math.round((this.o.clock.now() * 1000 - Math.max(reach, this.keyframeAtOrBefore(s, from) ?? reach)) / 1e6)} s before`;
    }
    return `recording until ${Math.max(0, Math.round((untilMs - this.o.clock.now()) / 1000))} s from now`;
  }

  /**
   * A channel's motion (the bus's `motion` event). A scheduled channel holds
   * itself recording from its `preSec` before the start to `postSec` after
   * the end; without a schedule only linkage rules record on motion.
   */
  motion(channel: string, active: boolean, atMs: number): void {
    const schedule = this.o.schedule?.(channel) ?? null;
    if (!schedule) return;
    const s = this.state(channel);
    const old = s.holds.get(MOTION_KEY);
    if (active) {
      const from = (atMs - schedule.preSec * 1000) * 1000;
      // A motion that starts again within the post-record continues the same recording.
      const live = old && (old.until === null || old.until >= from);
      s.holds.set(MOTION_KEY, { kind: 'motion', from: live ? Math.min(old.from, from) : from, until: null });
    } else if (old && old.until === null) {
      old.until = (atMs + schedule.postSec * 1000) * 1000;
    }
  }

  /** The reasons currently recording each channel in events mode, for status pages. */
  status(): { channel: string; holds: { key: string; kind: HoldKind; until: number | null }[]; bufferedBytes: number }[] {
    return [...this.channels.entries()].map(([channel, s]) => ({
      channel,
      holds: [...s.holds.entries()].map(([key, h]) => ({ key, kind: h.kind, until: h.until === null ? null : Math.round(h.until / 1000) })),
      bufferedBytes: s.bytes,
    }));
  }

  /**
   * Is a frame at time `t` (µs) to be written: a `C` half hour, or inside a
   * hold whose kind this half hour records (`slot` null: no schedule, any
   * hold)? Holds that ended before it are dropped. Says from when (µs: the
   * earliest such hold's start, or the `C` half hour's), or null.
   */
  private recording(s: ChannelState, t: number, slot: { mode: SlotMode; fromUs: number } | null): number | null {
    let from: number | null = slot?.mode === 'C' ? slot.fromUs : null;
    for (const [key, h] of s.holds) {
      if (h.until !== null && t > h.until) {
        s.holds.delete(key);
        continue;
      }
      if (t >= h.from && holdRecords(slot?.mode ?? null, h.kind)) from = Math.min(from ?? Infinity, h.from);
    }
    return from;
  }

  private slotMode(schedule: RecordSchedule, ms: number): SlotMode {
    return slotMode(schedule, this.slots.at(ms, this.zone()));
  }

  private send(s: ChannelState, channel: string, stream: StreamKind, info: StreamInfo): void {
    if (s.sent.get(stream) === info) return;
    this.o.store.setStreamInfo(channel, stream, info);
    s.sent.set(stream, info);
  }

  /** A frame while recording: a video stream waits for its first keyframe, audio for the video. */
  private pass(channel: string, s: ChannelState, stream: StreamKind, info: StreamInfo, frame: Frame): boolean {
    if (isVideo(stream)) {
      if (!s.running.has(stream)) {
        if (!frame.keyframe) return true;
        s.running.add(stream);
      }
    } else if (this.hasVideo(s) && s.running.size === 0) {
      return true; // audio before the picture starts would play over nothing
    }
    this.send(s, channel, stream, info);
    return this.o.store.append(channel, stream, frame);
  }

  private hasVideo(s: ChannelState): boolean {
    return s.latest.has('main') || s.latest.has('sub');
  }

  private dropBuffer(s: ChannelState): void {
    s.buffer.clear();
    s.bytes = 0;
  }

  /** Time of the newest buffered keyframe at or before `t`, over the video streams. */
  private keyframeAtOrBefore(s: ChannelState, t: number): number | null {
    let best: number | null = null;
    for (const [stream, list] of s.buffer) {
      if (!isVideo(stream)) continue;
      for (const b of list) if (b.frame.keyframe && b.frame.time <= t && (best === null || b.frame.time > best)) best = b.frame.time;
    }
    return best;
  }

  private bufferedSince(s: ChannelState): number | null {
    let min: number | null = null;
    for (const [stream, list] of s.buffer) {
      const first = isVideo(stream) ? list.find((b) => b.frame.keyframe) : undefined;
      if (first && (min === null || first.frame.time < min)) min = first.frame.time;
    }
    return min;
  }

  /** Hands the buffered frames from `from` (µs) to the store: video from the last keyframe at or before it. */
  private flushBuffer(channel: string, s: ChannelState, from: number): void {
    let videoStart = Infinity;
    const starts = new Map<StreamKind, number>();
    for (const [stream, list] of s.buffer) {
      if (!isVideo(stream)) continue;
      let i = -1;
      for (let k = 0; k < list.length; k++) {
        if (!list[k]!.frame.keyframe) continue;
        if (list[k]!.frame.time <= from || i === -1) i = k;
        if (list[k]!.frame.time > from) break;
      }
      if (i === -1) continue;
      starts.set(stream, i);
      videoStart = Math.min(videoStart, list[i]!.frame.time);
    }
    for (const [stream, list] of s.buffer) {
      let i = starts.get(stream);
      if (i === undefined) {
        if (isVideo(stream)) continue;
        i = list.findIndex((b) => b.frame.time >= videoStart);
        if (i === -1) continue;
      }
      if (isVideo(stream)) s.running.add(stream);
      for (let k = i; k < list.length; k++) {
        const b = list[k]!;
        this.send(s, channel, stream, b.info);
        this.o.store.append(channel, stream, b.frame);
      }
    }
    this.dropBuffer(s);
  }

  /** Keeps a frame for pre-record, trimmed to whole GOPs covering preRecordMs and to the byte bound. */
  private keep(channel: string, s: ChannelState, stream: StreamKind, info: StreamInfo, frame: Frame): void {
    const windowUs = this.o.preRecordMs(channel) * 1000;
    let list = s.buffer.get(stream);
    if (!list) s.buffer.set(stream, (list = []));
    if (isVideo(stream) && list.length === 0 && !frame.keyframe) return; // useless without its keyframe
    list.push({ info, frame });
    s.bytes += frame.data.byteLength;
    const max = this.o.maxBufferBytes ?? 24 * 1024 * 1024;
    const horizon = frame.time - windowUs;
    if (isVideo(stream) && (frame.keyframe || s.bytes > max)) {
      // Drop the oldest GOP while the next one still starts early enough to cover the window, or memory is over.
      for (;;) {
        const next = list.findIndex((b, k) => k > 0 && b.frame.keyframe);
        if (next === -1) break;
        const over = s.bytes > max;
        if (list[next]!.frame.time > horizon && !over) break;
        if (over && !s.warnedFull) {
          s.warnedFull = true;
          this.o.log.warn('pre-record buffer over its memory bound: it covers less than asked', { channel, seconds: Math.round(windowUs / 1e6), maxBytes: max });
        }
        s.bytes -= list.splice(0, next).reduce((n, b) => n + b.frame.data.byteLength, 0);
      }
    } else if (!isVideo(stream)) {
      let drop = 0;
      const videoFrom = this.videoFloor(s);
      while (drop < list.length - 1 && (list[drop]!.frame.time < Math.min(horizon, videoFrom ?? horizon) || s.bytes > max)) {
        s.bytes -= list[drop]!.frame.data.byteLength;
        drop++;
      }
      if (drop) list.splice(0, drop);
    }
  }

  private videoFloor(s: ChannelState): number | null {
    let min: number | null = null;
    for (const [stream, list] of s.buffer) if (isVideo(stream) && list.length && (min === null || list[0]!.frame.time < min)) min = list[0]!.frame.time;
    return min;
  }
}
