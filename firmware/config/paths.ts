/**
 * Dotted setting paths ("network.httpPort", "channels.2.name") as the command
 * line and the API name them.
 */

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export class SettingPathError extends Error {
  override name = 'SettingPathError';
}

export function splitPath(path: string): string[] {
  if (path === '') return [];
  const parts = path.split('.');
  for (const p of parts) {
    if (p === '' || FORBIDDEN.has(p) || !/^[A-Za-z0-9_-]{1,64}$/.test(p)) {
      throw new SettingPathError(`invalid setting path "${path.slice(0, 100)}"`);
    }
  }
  return parts;
}

export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const p of splitPath(path)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) {
      throw new SettingPathError(`no setting "${path}"`);
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Sets a value in place. Only existing containers are walked: a typo cannot create a new branch silently. */
export function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = splitPath(path);
  if (parts.length === 0) throw new SettingPathError('a setting path is required');
  let cur: unknown = root;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) {
      throw new SettingPathError(`no setting "${path}"`);
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === null || typeof cur !== 'object') throw new SettingPathError(`no setting "${path}"`);
  const last = parts.at(-1)!;
  if (Array.isArray(cur)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i > cur.length) throw new SettingPathError(`no setting "${path}"`);
    cur[i] = value;
    return;
  }
  (cur as Record<string, unknown>)[last] = value;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else in `over` replaces what is in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (FORBIDDEN.has(k)) continue;
    // An inherited member ("toString") of base is no setting to merge into.
    out[k] = deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, v);
  }
  return out;
}
