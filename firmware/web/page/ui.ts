// What every view of the page shares: the API call with the session's CSRF
// token, and building elements without ever parsing HTML.

export interface Account {
  name: string;
  role: 'admin' | 'operator' | 'viewer';
}

export interface Channel {
  id: string;
  name: string;
  kind: 'ip' | 'analog';
  sub: boolean;
  ptz: boolean;
  rights: string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The session's CSRF token: from the login or setup answer, or /me after a reload. */
export const session: { csrf: string | null } = { csrf: null };

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session.csrf && method !== 'GET') headers['x-csrf-token'] = session.csrf;
  const r = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.text();
  const json = text ? (JSON.parse(text) as { error?: { message?: string } }) : null;
  if (!r.ok) throw new ApiError(r.status, json?.error?.message ?? `HTTP ${r.status}`);
  return json as T;
}

/** An element with attributes and children; text children become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}
