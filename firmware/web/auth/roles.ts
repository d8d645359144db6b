import { array, oneOf, record, string, type Infer } from '../../core/schema.js';

/**
 * Roles and per-channel rights. A role gives a default set of rights on every
 * channel; an account can narrow them per channel (a viewer who may see only
 * the car park, an operator without export).
 */
export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const RIGHTS = ['live', 'playback', 'export', 'ptz'] as const;
export type Right = (typeof RIGHTS)[number];

const DEFAULT_RIGHTS: Record<Role, readonly Right[]> = {
  admin: RIGHTS,
  operator: RIGHTS,
  viewer: ['live', 'playback'],
};

export const channelRightsSchema = record(array(oneOf(RIGHTS)), /^[A-Za-z0-9_-]{1,32}$/);
export type ChannelRights = Infer<typeof channelRightsSchema>;

export const roleSchema = oneOf(ROLES);

/** What an account may do on one channel. `channels` absent = the role's defaults on every channel. */
export function rightsOn(role: Role, channels: ChannelRights | null, channel: string): Right[] {
  if (role === 'admin') return [...RIGHTS];
  if (channels === null) return [...DEFAULT_RIGHTS[role]];
  // Narrowing only: a per-channel list can never grant more than the role has.
  return (channels[channel] ?? []).filter((r) => DEFAULT_RIGHTS[role].includes(r));
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` is at least `needed` (admin ⊇ operator ⊇ viewer). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export const usernameSchema = string({ min: 1, max: 32, pattern: /^[a-z][a-z0-9._-]{0,31}$/ });

