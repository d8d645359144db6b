import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt. The parameters are stored in each hash
 * ("scrypt$N$r$p$salt$hash"), so they can be raised in a later firmware
 * without invalidating existing accounts; `needsRehash` says when.
 *
 * N = 2^15, r = 8 needs 32 MiB and ~0.3 s on the x86 host, ~1 s on a
 * Cortex-A72: slow for an attacker, acceptable for a login on a small board.
 */
const CURRENT = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, KEY_BYTES, { ...opts, maxmem: 128 * opts.N! * opts.r! * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, CURRENT);
  return ['scrypt', CURRENT.N, CURRENT.r, CURRENT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

function parse(hash: string): { N: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse parameters that would let a tampered file make every login eat the board's memory.
  if (N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const h = parse(hash);
  if (!h || h.key.length !== KEY_BYTES) return false;
  const key = await scrypt(password, h.salt, { N: h.N, r: h.r, p: h.p });
  return timingSafeEqual(key, h.key);
}

export function needsRehash(hash: string): boolean {
  const h = parse(hash);
  return !h || h.N < CURRENT.N || h.r < CURRENT.r;
}

/** A hash of a random password: verifying against it costs the same as a real one (no user-exists timing leak). */
export const DUMMY_HASH = `scrypt$${CURRENT.N}$${CURRENT.r}$${CURRENT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_BYTES).toString('base64')}`;

const COMMON = new Set([
  'password', 'password1', 'password123', '1234567890', '12345678910', 'qwertyuiop', 'admin12345', 'administrator',
  'letmein123', 'iloveyou12', 'welcome123', 'changeme12', 'hikvision123', 'dahua12345', '1q2w3e4r5t', 'qwerty12345',
]);

/**
 * The strength rule for every account (ETSI EN 303 645 provision 5.1):
 * at least 10 characters, at least 3 of the 4 character classes, not a
 * well-known password, not containing the user name. Returns the problems,
 * empty when the password is acceptable.
 */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (password.length < 10) problems.push('must be at least 10 characters');
  if (password.length > 256) problems.push('must be at most 256 characters');
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) problems.push('must mix at least three of: lower case, upper case, digits, symbols');
  if (COMMON.has(password.toLowerCase())) problems.push('is a well-known password');
  if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) problems.push('must not contain the user name');
  if (/^(.)\1+$/.test(password)) problems.push('must not repeat one character');
  return problems;
}
