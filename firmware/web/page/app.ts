// The LAN page: first-boot account creation, login, and the live view
// (layouts 1/4/9/16, sub streams in grids and the main stream alone, digital
// zoom by wheel, buttons and drag, and full screen). Plain DOM, no framework: the box serves a few KB.
// Every string from the box goes into textContent, never into HTML.
import { LivePlayer } from './live-player.js';
import { playbackView } from './playback.js';
import { settingsView } from './settings.js';
import { ptzPanel } from './ptz-panel.js';
import { eventsView } from './events.js';
import { api, ApiError, h, session, type Account, type Channel } from './ui.js';

const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;

let leave: () => void = () => {};
/** The box's console requests (a rule's popup), open while signed in. */
let consoleEvents: EventSource | null = null;
/** Set while the live view is on screen: shows a popped-up channel. */
let popupHere: ((p: Popup) => void) | null = null;

interface Popup {
  channel: string;
  seconds: number;
  rule: string;
}
function show(...nodes: Node[]): void {
  leave();
  leave = () => {};
  app.replaceChildren(...nodes);
}

/** A form whose submit runs `action`, showing its error message under the fields. */
function form(title: string, fields: HTMLInputElement[], submit: string, action: (values: string[]) => Promise<void>): HTMLFormElement {
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, submit);
  const f = h('form', { class: 'card' }, h('h1', {}, title), ...fields.map((i) => h('label', {}, i.title, i)), error, button);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    button.disabled = true;
    action(fields.map((i) => i.value))
      .catch((err: Error) => (error.textContent = err.message))
      .finally(() => (button.disabled = false));
  });
  return f;
}

function input(name: string, title: string, type = 'text', autocomplete = 'off'): HTMLInputElement {
  const i = h('input', { name, type, autocomplete, required: '' });
  i.title = title;
  return i;
}

function setupView(): void {
  who.replaceChildren();
  const f = form(
    'Create the administrator account',
    [input('name', 'User name', 'text', 'username'), input('password', 'Password (at least 10 characters, three kinds of character)', 'password', 'new-password'), input('confirm', 'Password again', 'password', 'new-password')],
    'Create account',
    async ([name, password, confirm]) => {
      if (password !== confirm) throw new Error('the two passwords differ');
      const r = await api<{ account: Account; csrf: string }>('POST', '/api/v1/setup', { name, password });
      session.csrf = r.csrf;
      await signedIn(r.account);
    },
  );
  show(h('p', { class: 'note' }, 'This recorder has no account yet. There is no default password: choose the administrator’s now.'), f);
}

function loginView(): void {
  who.replaceChildren();
  nav.replaceChildren();
  show(
    form('Log in', [input('name', 'User name', 'text', 'username'), input('password', 'Password', 'password', 'current-password')], 'Log in', async ([name, password]) => {
      const r = await api<{ account: Account; csrf: string }>('POST', '/api/v1/login', { name, password });
      session.csrf = r.csrf;
      await signedIn(r.account);
    }),
  );
}

async function signedIn(account: Account): Promise<void> {
  const logout = h('button', { type: 'button' }, 'Log out');
  logout.addEventListener('click', () => {
    // Live sockets close before the session ends, so none is refused half-open.
    show(h('p', { class: 'note' }, 'Logging out…'));
    consoleEvents?.close();
    consoleEvents = null;
    void api('POST', '/api/v1/logout').finally(() => {
      session.csrf = null;
      loginView();
    });
  });
  who.replaceChildren(`${account.name} (${account.role})`, logout);
  const { channels } = await api<{ channels: Channel[] }>('GET', '/api/v1/channels');
  const setLeave = (f: () => void) => (leave = f);
  const openPlayback = (c: Channel, atMs: number) => {
    for (const x of buttons) x.setAttribute('aria-pressed', String(x.dataset.view === 'playback'));
    playbackView(channels, show, setLeave, { channel: c.id, atMs });
  };
  const views: [string, () => void][] = [
    ['Live', () => liveView(channels.filter((c) => c.rights.includes('live')), account.role !== 'viewer')],
    ['Playback', () => playbackView(channels, show, setLeave)],
    ['Events', () => eventsView(channels, show, openPlayback)],
    ...(account.role === 'admin' ? ([['Settings', () => void settingsView(show).catch((e: Error) => show(h('p', { class: 'error' }, e.message)))]] as [string, () => void][]) : []),
  ];
  const buttons = views.map(([name, open]) => {
    const b = h('button', { type: 'button', 'data-view': name.toLowerCase() }, name);
    b.addEventListener('click', () => {
      for (const x of buttons) x.setAttribute('aria-pressed', String(x === b));
      open();
    });
    return b;
  });
  nav.replaceChildren(...buttons);
  buttons[0]!.click();
  listenForPopups(channels, () => buttons[0]!.click());
}

/**
 * The page is one of the box's consoles: a rule's popup shows its channel
 * alone in the live view for the rule's time, then the layout comes back.
 * Elsewhere in the page a notice offers to show it.
 */
function listenForPopups(channels: Channel[], openLive: () => void): void {
  consoleEvents?.close();
  consoleEvents = new EventSource('/api/v1/console/events');
  consoleEvents.addEventListener('popup', (e) => {
    let p: Popup;
    try {
      p = JSON.parse((e as MessageEvent<string>).data) as Popup;
    } catch {
      return;
    }
    if (popupHere) return popupHere(p);
    const c = channels.find((x) => x.id === p.channel);
    if (!c) return;
    const go = h('button', { type: 'button' }, 'Show');
    const note = h('div', { class: 'toast', role: 'alert' }, `${p.rule}: ${c.name}`, go);
    go.addEventListener('click', () => {
      note.remove();
      openLive();
      popupHere?.(p);
    });
    document.body.append(note);
    setTimeout(() => note.remove(), Math.max(5, p.seconds) * 1000);
  });
}

const LAYOUTS = [1, 4, 9, 16] as const;

function liveView(channels: Channel[], editPresets: boolean): void {
  let layout: number = Number(localStorage.getItem('layout')) || 4;
  if (!LAYOUTS.includes(layout as 1)) layout = 4;
  let page = 0;
  let single: Channel | null = null;
  let players: LivePlayer[] = [];
  /** While a rule's popup shows: the banner, and the timer that puts the view back. */
  let popup: { banner: HTMLElement; timer: number } | null = null;
  const endPopup = () => {
    if (!popup) return;
    clearTimeout(popup.timer);
    popup = null;
  };
  const grid = h('div', { class: 'grid', id: 'grid' });
  const tools = h('div', { class: 'tools' });
  /** The single view's digital zoom, for the tool buttons (the wheel zooms at the pointer). */
  let zoom: Zoom | null = null;

  const stopAll = () => {
    for (const p of players) p.stop();
    players = [];
  };
  const tile = (c: Channel | undefined, stream: 'main' | 'sub'): HTMLElement => {
    if (!c) return h('div', { class: 'tile empty' });
    const video = h('video', { muted: '', autoplay: '', playsinline: '' });
    video.muted = true;
    const state = h('span', { class: 'state' });
    const t = h('div', { class: 'tile', 'data-channel': c.id, 'data-stream': stream, title: single ? 'Click: back to the grid; wheel or + −: zoom; drag: move the zoomed picture' : 'Click: this channel alone' }, video, h('span', { class: 'label' }, c.name), state);
    const base = `/api/v1/live/${encodeURIComponent(c.id)}`;
    // A main stream the browser cannot play (H.265) gives way to the sub stream, where there is one.
    const player = new LivePlayer(video, `${base}/${stream}`, (s) => (state.textContent = s), { live: true, ...(stream === 'main' && c.sub ? { substitute: `${base}/sub` } : {}) });
    players.push(player);
    player.start();
    t.addEventListener('click', () => {
      endPopup(); // the viewer took over: no automatic return
      single = single ? null : c;
      render();
    });
    if (single) zoom = zoomable(t, video);
    if (single && c.ptz && c.rights.includes('ptz')) t.append(ptzPanel(c.id, (s) => (state.textContent = s), editPresets));
    return t;
  };
  const render = () => {
    stopAll();
    const buttons = LAYOUTS.map((n) => {
      const b = h('button', { type: 'button', 'aria-pressed': String(!single && n === layout), 'data-layout': String(n) }, n === 1 ? '1' : `${Math.sqrt(n)}×${Math.sqrt(n)}`);
      b.addEventListener('click', () => {
        endPopup();
        layout = n;
        single = null;
        page = 0;
        localStorage.setItem('layout', String(n));
        render();
      });
      return b;
    });
    const pages = Math.max(1, Math.ceil(channels.length / layout));
    const prev = h('button', { type: 'button' }, '‹');
    const next = h('button', { type: 'button' }, '›');
    prev.addEventListener('click', () => ((page = (page + pages - 1) % pages), render()));
    next.addEventListener('click', () => ((page = (page + 1) % pages), render()));
    const full = h('button', { type: 'button', id: 'full-screen', title: 'Full screen (Esc leaves it)' }, 'Full screen');
    full.addEventListener('click', () => void grid.requestFullscreen().catch(() => {}));
    // Digital zoom of the picture shown alone: buttons zoom at the centre, the wheel where the pointer is, a drag pans.
    const zoomButtons = single
      ? ([['zoom-in', '+', 'Zoom in', 1.25], ['zoom-out', '−', 'Zoom out', 0.8], ['zoom-reset', '1×', 'Whole picture', 0]] as const).map(([id, label, title, f]) => {
          const b = h('button', { type: 'button', id, title }, label);
          b.addEventListener('click', () => (f === 0 ? zoom?.reset() : zoom?.by(f)));
          return b;
        })
      : [];
    zoom = null;
    tools.replaceChildren(...buttons, ...(pages > 1 && !single ? [prev, h('span', {}, `${page + 1}/${pages}`), next] : []), ...(popup ? [popup.banner] : []), h('span', { class: 'spacer' }), ...zoomButtons, full);
    if (single) {
      grid.style.gridTemplateColumns = '1fr';
      grid.replaceChildren(tile(single, 'main'));
    } else {
      const side = Math.sqrt(layout);
      grid.style.gridTemplateColumns = `repeat(${side}, 1fr)`;
      grid.style.gridTemplateRows = `repeat(${side}, 1fr)`;
      const shown = channels.slice(page * layout, page * layout + layout);
      // One channel alone gets its main stream; a grid uses sub streams where the channel has one.
      grid.replaceChildren(...Array.from({ length: layout }, (_, i) => tile(shown[i], layout === 1 || !shown[i]?.sub ? 'main' : 'sub')));
    }
    if (single) grid.style.gridTemplateRows = '1fr';
  };
  if (channels.length === 0) {
    show(h('p', { class: 'note' }, 'No channel to show: add cameras in the settings, or ask an administrator for the live right.'));
    return;
  }
  show(tools, grid);
  render();
  popupHere = (p) => {
    const c = channels.find((x) => x.id === p.channel);
    if (!c) return;
    const before = popup ? null : single;
    const back = popup ? (popup.banner.dataset.back ?? '') : (before?.id ?? '');
    endPopup();
    const banner = h('span', { class: 'popup', role: 'status', 'data-back': back }, `${p.rule}: ${c.name}, back in ${p.seconds} s`);
    const timer = window.setTimeout(() => {
      popup = null;
      single = channels.find((x) => x.id === back) ?? null;
      render();
    }, p.seconds * 1000);
    popup = { banner, timer };
    single = c;
    render();
  };
  leave = () => {
    endPopup();
    popupHere = null;
    stopAll();
  };
}

interface Zoom {
  by(factor: number): void;
  reset(): void;
}

/**
 * Digital zoom of one picture, up to 8×: the wheel zooms where the pointer
 * is, `by()` (the tool buttons) around the point zoomed last, and a drag
 * while zoomed moves the picture under it. A drag is not a click: the tile
 * does not go back to the grid when the picture was moved.
 */
function zoomable(t: HTMLElement, video: HTMLVideoElement): Zoom {
  let scale = 1;
  let origin = { x: 0.5, y: 0.5 };
  const apply = () => {
    video.style.transformOrigin = `${origin.x * 100}% ${origin.y * 100}%`;
    video.style.transform = scale === 1 ? '' : `scale(${scale})`;
    video.dataset.zoom = String(scale);
  };
  const by = (factor: number) => {
    scale = Math.min(8, Math.max(1, scale * factor));
    if (scale < 1.01) scale = 1;
    apply();
  };
  t.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = t.getBoundingClientRect();
      origin = { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
      by(e.deltaY < 0 ? 1.25 : 0.8);
    },
    { passive: false },
  );
  let drag: { x: number; y: number; origin: { x: number; y: number }; moved: boolean } | null = null;
  video.addEventListener('pointerdown', (e) => {
    if (scale === 1) return;
    drag = { x: e.clientX, y: e.clientY, origin, moved: false };
    video.setPointerCapture(e.pointerId);
  });
  video.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const r = t.getBoundingClientRect();
    const dx = (e.clientX - drag.x) / r.width;
    const dy = (e.clientY - drag.y) / r.height;
    if (Math.abs(dx) + Math.abs(dy) > 0.01) drag.moved = true;
    // With origin o and scale s a point shows at o(1 - s) + s·p: moving o by -d/(s - 1) moves the picture by d.
    const k = 1 / (scale - 1);
    origin = { x: Math.min(1, Math.max(0, drag.origin.x - dx * k)), y: Math.min(1, Math.max(0, drag.origin.y - dy * k)) };
    apply();
  });
  video.addEventListener('pointerup', () => {
    if (drag?.moved) {
      // The click that ends a drag follows at once; one that never comes must not eat a later one.
      const swallow = (e: Event) => e.stopImmediatePropagation();
      t.addEventListener('click', swallow, { capture: true, once: true });
      setTimeout(() => t.removeEventListener('click', swallow, { capture: true }), 0);
    }
    drag = null;
  });
  return {
    by,
    reset: () => {
      scale = 1;
      origin = { x: 0.5, y: 0.5 };
      apply();
    },
  };
}

async function boot(): Promise<void> {
  const { setupNeeded } = await api<{ setupNeeded: boolean }>('GET', '/api/v1/setup');
  if (setupNeeded) return setupView();
  try {
    const me = await api<{ account: Account; csrf: string | null }>('GET', '/api/v1/me');
    session.csrf = me.csrf;
    await signedIn(me.account);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return loginView();
    throw e;
  }
}

boot().catch((e: Error) => show(h('p', { class: 'error' }, `The recorder did not answer: ${e.message}`)));
