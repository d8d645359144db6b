// Playback: a channel's timeline (recorded segments, gaps, locks) over a
// window of 10 min, 1 h or 24 h; click or drag along it to play from exactly
// there, or type a time to go to; 1x-32x, pause and frame step, and export a
// range as an MP4 download. Up to three more channels play beside it, kept
// on the first one's clock.
import { FrameClock } from './frame-clock.js';
import { LivePlayer } from './live-player.js';
import { api, h, type Channel } from './ui.js';

interface Span {
  start: number;
  end: number;
}

interface RecordingList {
  segments: Span[];
  gaps: Span[];
  locks: (Span & { id: string; reason: string })[];
}

const WINDOWS = [
  ['10 min', 600_000],
  ['1 h', 3_600_000],
  ['24 h', 86_400_000],
] as const;
const SPEEDS = [1, 2, 4, 8, 16, 32];
/** Channels played together at most (the first one's timeline leads). */
const MAX_SYNC = 4;
/** Drift a synced channel may have before the rate nudges it back, and before it is held or restarted. */
const NUDGE_MS = 120;
const JUMP_MS = 2000;

interface Follower {
  channel: Channel;
  video: HTMLVideoElement;
  tile: HTMLElement;
  player: LivePlayer;
  frames: FrameClock;
}

/** A Date as the value of an <input type=datetime-local step=1> (local time). */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

function fromLocalInput(v: string): number {
  return new Date(v).getTime();
}

export function playbackView(channels: Channel[], show: (...n: Node[]) => void, setLeave: (f: () => void) => void, start?: { channel: string; atMs: number }): void {
  const usable = channels.filter((c) => c.rights.includes('playback'));
  if (usable.length === 0) return show(h('p', { class: 'note' }, 'You have no playback right on any channel.'));
  let channel = usable.find((c) => c.id === start?.channel) ?? usable[0]!;
  let windowMs: number = start ? WINDOWS[0][1] : WINDOWS[1][1];
  let endMs = start ? Math.min(Math.ceil(Date.now() / 60_000) * 60_000, Math.ceil((start.atMs + windowMs / 2) / 60_000) * 60_000) : Math.ceil(Date.now() / 60_000) * 60_000;
  let speed = 1;
  let player: LivePlayer | undefined;
  let startedAt: number | null = null;
  /** Channels chosen to play beside the first; and their players while playing. */
  const synced = new Set<string>();
  let followers: Follower[] = [];

  const select = h('select', { name: 'channel' });
  for (const c of usable) select.append(h('option', { value: c.id }, c.name));
  select.value = channel.id;
  const timeline = h('div', { class: 'timeline', id: 'timeline', title: 'Click: play from this moment' });
  const cursor = h('div', { class: 'cursor' });
  const clock = h('span', { class: 'clock', id: 'position' }, '--:--:--');
  const state = h('span', { class: 'state-line' });
  const video = h('video', { muted: '', playsinline: '', id: 'playback-video' });
  video.muted = true;
  const frames = new FrameClock(video);
  frames.start();
  const fromInput = h('input', { type: 'datetime-local', step: '1', name: 'export-from' });
  const toInput = h('input', { type: 'datetime-local', step: '1', name: 'export-to' });
  const exportLink = h('a', { class: 'button', id: 'export', download: '' }, 'Export MP4');
  const lockList = h('ul', { class: 'locks', id: 'locks' });
  const lockButton = h('button', { type: 'button', id: 'lock' }, 'Lock range');
  lockButton.addEventListener('click', () => {
    const f = fromLocalInput(fromInput.value);
    const t = fromLocalInput(toInput.value);
    if (!(t > f)) return void (state.textContent = 'choose a range to lock: from before to');
    const reason = prompt('Why is this range kept? (shown with the lock)', 'evidence');
    if (!reason) return;
    api('POST', `/api/v1/recordings/${encodeURIComponent(channel.id)}/locks`, { from: new Date(f).toISOString(), to: new Date(t).toISOString(), reason }).then(
      () => void loadTimeline(),
      (e: Error) => (state.textContent = e.message),
    );
  });

  const labels = h('div', { class: 'timeline-labels' });
  let loads = 0;
  const loadTimeline = async () => {
    // Only the newest load draws: a window or channel change while one is in flight wins.
    const mine = ++loads;
    const from = endMs - windowMs;
    labels.replaceChildren(h('span', {}, new Date(from).toLocaleString()), h('span', {}, new Date(endMs).toLocaleString()));
    const q = `from=${new Date(from).toISOString()}&to=${new Date(endMs).toISOString()}`;
    let list: RecordingList;
    try {
      list = await api<RecordingList>('GET', `/api/v1/recordings/${encodeURIComponent(channel.id)}?${q}`);
    } catch (e) {
      timeline.replaceChildren(cursor);
      state.textContent = (e as Error).message;
      return;
    }
    const pos = (us: number) => Math.min(100, Math.max(0, ((us / 1000 - from) / windowMs) * 100));
    const bar = (cls: string, s: Span) => {
      const el = h('div', { class: cls, 'data-start': String(s.start), 'data-end': String(s.end) });
      el.style.left = `${pos(s.start)}%`;
      el.style.width = `${Math.max(0.2, pos(s.end) - pos(s.start))}%`;
      return el;
    };
    // Motion, tamper and video loss of this channel, and the box's alarm inputs, as marks over its recording.
    type Mark = { at: number; type: string; active: boolean | null; channel: string | null; text: string };
    const span = `from=${Math.floor(from)}&to=${endMs}&limit=2000`;
    const [own, alarms] = await Promise.all([
      api<{ events: Mark[] }>('GET', `/api/v1/events?channel=${encodeURIComponent(channel.id)}&${span}&type=motion&type=tamper&type=videoLoss`).then((r) => r.events, () => []),
      api<{ events: Mark[] }>('GET', `/api/v1/events?${span}&type=alarm`).then((r) => r.events.filter((e) => e.channel === null), () => []),
    ]);
    const marks = [...own, ...alarms].filter((e) => e.active === true);
    const mark = (e: Mark) => {
      const el = h('div', { class: `mark ${e.type}`, title: `${e.type === 'alarm' ? e.text : e.type} ${new Date(e.at).toLocaleTimeString()}` });
      el.style.left = `${pos(e.at * 1000)}%`;
      return el;
    };
    if (mine !== loads) return;
    // What lies ahead of now is not missing, only not yet recorded.
    const nowUs = Date.now() * 1000;
    const gaps = list.gaps.filter((g) => g.start < nowUs).map((g) => ({ start: g.start, end: Math.min(g.end, nowUs) })).map((g) => {
      const el = bar('gap', g);
      el.title = `nothing recorded ${new Date(g.start / 1000).toLocaleTimeString()} – ${new Date(g.end / 1000).toLocaleTimeString()}`;
      return el;
    });
    timeline.replaceChildren(...gaps, ...list.segments.map((s) => bar('segment', s)), ...list.locks.map((s) => bar('lock', s)), ...marks.map(mark), cursor);
    timeline.dataset.window = String(windowMs);
    timeline.dataset.end = String(endMs);
    timeline.dataset.channel = channel.id;
    lockList.replaceChildren(
      ...list.locks.map((l) => {
        const unlock = h('button', { type: 'button', 'data-unlock': l.id }, 'Unlock');
        unlock.addEventListener('click', () => {
          if (!confirm('Unlock this range? It will be overwritten in turn like any recording.')) return;
          api('DELETE', `/api/v1/recordings/${encodeURIComponent(channel.id)}/locks/${encodeURIComponent(l.id)}`).then(
            () => void loadTimeline(),
            (e: Error) => (state.textContent = e.message),
          );
        });
        return h('li', { class: 'lock-item' }, `Locked ${new Date(l.start / 1000).toLocaleString()} – ${new Date(l.end / 1000).toLocaleTimeString()}: ${l.reason} `, unlock);
      }),
    );
    state.textContent = list.segments.length ? '' : 'nothing recorded in this window';
  };

  const playerArea = h('div', { class: 'player', id: 'playback-grid' });
  const primaryTile = h('div', { class: 'sync-tile', 'data-channel': channel.id }, video, state);
  playerArea.className = 'player sync-1';
  playerArea.append(primaryTile);
  const stopFollowers = () => {
    for (const f of followers) {
      f.player.stop();
      f.frames.stop();
    }
    followers = [];
  };
  // A new source (every play) resets playbackRate to defaultPlaybackRate: both carry the speed.
  const setRate = (v: HTMLVideoElement) => {
    v.defaultPlaybackRate = speed;
    v.playbackRate = speed;
  };
  const source = (c: Channel, atMs: number) => `/api/v1/playback/${encodeURIComponent(c.id)}?from=${new Date(atMs).toISOString()}&speed=${speed}`;
  const follow = (c: Channel, atMs: number): Follower => {
    const v = h('video', { muted: '', playsinline: '' });
    v.muted = true;
    setRate(v);
    const note = h('span', { class: 'state-line' });
    const tile = h('div', { class: 'sync-tile', 'data-channel': c.id }, v, h('span', { class: 'label' }, c.name), note);
    const p = new LivePlayer(v, source(c, atMs), (x) => (note.textContent = x), { live: false, seekUs: atMs * 1000 });
    p.start();
    const f = new FrameClock(v);
    f.start();
    return { channel: c, video: v, tile, player: p, frames: f };
  };
  const play = (atMs: number) => {
    player?.stop();
    stopFollowers();
    startedAt = atMs;
    // The last session's position is not this one's: nothing until this one shows its first picture.
    delete primaryTile.dataset.position;
    setRate(video);
    player = new LivePlayer(video, source(channel, atMs), (s) => (state.textContent = s), { live: false, seekUs: atMs * 1000 });
    player.start();
    followers = usable.filter((c) => c.id !== channel.id && synced.has(c.id)).map((c) => follow(c, atMs));
    primaryTile.dataset.channel = channel.id;
    playerArea.className = `player sync-${1 + followers.length}`;
    playerArea.replaceChildren(primaryTile, ...followers.map((f) => f.tile));
    fromInput.value = localInput(atMs);
    toInput.value = localInput(atMs + 60_000);
    updateExport();
  };
  const updateExport = () => {
    const f = fromLocalInput(fromInput.value);
    const t = fromLocalInput(toInput.value);
    if (Number.isFinite(f) && Number.isFinite(t) && t > f) exportLink.href = `/api/v1/recordings/${encodeURIComponent(channel.id)}/export.mp4?from=${new Date(f).toISOString()}&to=${new Date(t).toISOString()}`;
    else exportLink.removeAttribute('href');
  };
  fromInput.addEventListener('change', updateExport);
  toInput.addEventListener('change', updateExport);

  // Scrubbing: the cursor and the clock follow a drag along the timeline; letting go plays from there.
  const timeAt = (clientX: number) => {
    const r = timeline.getBoundingClientRect();
    return endMs - windowMs + (Math.min(r.width, Math.max(0, clientX - r.left)) / r.width) * windowMs;
  };
  let scrubbing = false;
  /** Set when a drag just played: the click that follows it is the same gesture. */
  let played = false;
  timeline.addEventListener('pointerdown', (e) => {
    scrubbing = true;
    played = false;
    timeline.setPointerCapture(e.pointerId);
    scrubTo(timeAt(e.clientX));
  });
  timeline.addEventListener('pointermove', (e) => scrubbing && scrubTo(timeAt(e.clientX)));
  timeline.addEventListener('pointerup', (e) => {
    if (!scrubbing) return;
    scrubbing = false;
    played = true;
    play(timeAt(e.clientX));
  });
  timeline.addEventListener('pointercancel', () => (scrubbing = false));
  // A click that no pointer began (a script's, an assistive tool's) plays too.
  timeline.addEventListener('click', (e) => {
    if (!played) play(timeAt(e.clientX));
    played = false;
  });
  const scrubTo = (atMs: number) => {
    cursor.style.left = `${((atMs - (endMs - windowMs)) / windowMs) * 100}%`;
    clock.textContent = new Date(atMs).toLocaleTimeString();
  };

  // Going to a typed moment: the timeline's window moves to show it, and it plays.
  const gotoInput = h('input', { type: 'datetime-local', step: '1', name: 'goto', title: 'Date and time to play from' });
  const gotoButton = h('button', { type: 'button', id: 'goto' }, 'Go');
  const goTo = () => {
    const at = fromLocalInput(gotoInput.value);
    if (!Number.isFinite(at)) return void (state.textContent = 'type the date and time to go to');
    if (at < endMs - windowMs || at > endMs) {
      endMs = Math.min(Math.ceil(Date.now() / 60_000) * 60_000, Math.ceil((at + windowMs / 2) / 60_000) * 60_000);
      void loadTimeline();
    }
    play(at);
  };
  gotoButton.addEventListener('click', goTo);
  gotoInput.addEventListener('keydown', (e) => e.key === 'Enter' && goTo());
  select.addEventListener('change', () => {
    channel = usable.find((c) => c.id === select.value) ?? channel;
    player?.stop();
    stopFollowers();
    drawSyncChoice();
    void loadTimeline();
  });

  // "Play with": up to three more channels, started at the same moment and kept on the first one's clock.
  const syncChoice = h('span', { class: 'sync-choice' });
  const drawSyncChoice = () => {
    const others = usable.filter((c) => c.id !== channel.id);
    synced.delete(channel.id);
    syncChoice.replaceChildren(
      ...(others.length ? ['Play with: '] : []),
      ...others.map((c) => {
        const box = h('input', { type: 'checkbox', name: 'sync', value: c.id });
        box.checked = synced.has(c.id);
        box.disabled = !box.checked && synced.size >= MAX_SYNC - 1;
        box.addEventListener('change', () => {
          if (box.checked) synced.add(c.id);
          else synced.delete(c.id);
          drawSyncChoice();
          const at = player?.position() ?? startedAt;
          if (at !== null) play(at);
        });
        return h('label', { class: 'inline' }, box, c.name);
      }),
    );
  };
  drawSyncChoice();

  const windowButtons = WINDOWS.map(([label, ms]) => {
    const b = h('button', { type: 'button', 'aria-pressed': String(ms === windowMs), 'data-window': String(ms) }, label);
    b.addEventListener('click', () => {
      windowMs = ms;
      endMs = Math.ceil(Date.now() / 60_000) * 60_000;
      for (const x of windowButtons) x.setAttribute('aria-pressed', String(x === b));
      void loadTimeline();
    });
    return b;
  });
  const speedButtons = SPEEDS.map((s) => {
    const b = h('button', { type: 'button', 'aria-pressed': String(s === speed), 'data-speed': String(s) }, `${s}×`);
    b.addEventListener('click', () => {
      speed = s;
      for (const x of speedButtons) x.setAttribute('aria-pressed', String(x === b));
      const at = player?.position() ?? startedAt;
      if (at !== null) play(at);
    });
    return b;
  });
  const pause = h('button', { type: 'button', id: 'pause' }, 'Pause');
  const all = () => [...(player ? [{ player, video, frames }] : []), ...followers];
  pause.addEventListener('click', () => {
    if (!player) return;
    const hold = !player.held;
    for (const x of all()) {
      x.player.held = hold;
      if (hold) x.frames.pause();
      else void x.video.play();
    }
    pause.textContent = hold ? 'Play' : 'Pause';
  });
  const step = h('button', { type: 'button', id: 'step', title: 'Next frame (while paused)' }, 'Frame ▸');
  step.addEventListener('click', () => {
    if (!player) return;
    for (const x of all()) {
      x.player.held = true;
      x.frames.step();
    }
    pause.textContent = 'Play';
  });

  const tick = window.setInterval(() => {
    const p = player?.position();
    if (p === null || p === undefined) return;
    primaryTile.dataset.position = String(Math.round(p));
    keepInStep(p);
    if (scrubbing) return;
    clock.textContent = new Date(p).toLocaleTimeString();
    cursor.style.left = `${Math.min(100, Math.max(0, ((p - (endMs - windowMs)) / windowMs) * 100))}%`;
  }, 250);
  /** Each follower on the first channel's clock: a small drift is nudged by the rate, a gap in one recording holds or restarts it. */
  const keepInStep = (leader: number) => {
    for (const f of followers) {
      const q = f.player.position();
      if (q === null) continue;
      f.tile.dataset.position = String(Math.round(q));
      if (player!.held) continue;
      const ahead = q - leader;
      if (ahead > JUMP_MS) {
        // Its recording resumes later than the leader's: wait there for the leader.
        f.player.held = true;
        f.video.pause();
      } else if (f.player.held && ahead <= 0) {
        f.player.held = false;
        void f.video.play();
      } else if (ahead < -JUMP_MS) {
        const at = leader;
        f.player.stop();
        f.frames.stop();
        const next = follow(f.channel, at);
        f.tile.replaceWith(next.tile);
        Object.assign(f, next);
      } else if (!f.player.held) {
        f.video.playbackRate = speed * (ahead > NUDGE_MS ? 0.9 : ahead < -NUDGE_MS ? 1.1 : 1);
      }
    }
  };
  show(
    h('div', { class: 'tools' }, select, ...windowButtons, h('span', { class: 'spacer' }), ...speedButtons, pause, step, clock),
    h('div', { class: 'tools' }, syncChoice, h('span', { class: 'spacer' }), h('label', { class: 'inline' }, 'Go to ', gotoInput), gotoButton),
    h('div', { class: 'timeline-wrap' }, timeline, labels, lockList),
    playerArea,
    h('div', { class: 'tools' }, h('label', { class: 'inline' }, 'From ', fromInput), h('label', { class: 'inline' }, 'to ', toInput), exportLink, lockButton),
  );
  if (start) play(start.atMs);
  // After show(): it ends the previous view, not this one.
  setLeave(() => {
    window.clearInterval(tick);
    player?.stop();
    frames.stop();
    stopFollowers();
  });
  void loadTimeline();
}
