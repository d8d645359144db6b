// API tokens for integrators (Home Assistant, scripts): `Authorization:
// Bearer dvr_<id>.<secret>`, acting as the account that made them, with
// that account's role and channel rights (looked up at each request, so a
// changed role applies at once and a removed account's tokens stop working). Only a SHA-256 of the secret is
// kept (the secret is 256 random bits, so a slow hash buys nothing); the
// token is shown once, when made. A bearer token is not sent by browsers on
// their own, so it needs no CSRF token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { array, int, literal, object, SchemaError, string, type Infer } from '../../core/schema.js';
import { DurableJsonFile } from '../../config/durable-file.js';

const tokenSchema = object({
  id: string({ pattern: /^[a-f0-9]{16}$/ }),
  label: string({ min: 1, max: 64 }),
  user: string({ min: 1, max: 64 }),
  hash: string({ pattern: /^[a-f0-9]{64}$/ }),
  created: int(),
});
const fileSchema = object({ version: literal(1), tokens: array(tokenSchema, { max: 1000 }) });
type TokensFile = Infer<typeof fileSchema>;

/** What the API shows of a token: never its secret or hash. */
export interface TokenInfo {
  id: string;
  label: string;
  user: string;
  created: number;
}

const FORMAT = /^dvr_([a-f0-9]{16})\.([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ApiTokenStore {
  private data: TokensFile = { version: 1, tokens: [] };
  private file?: DurableJsonFile<TokensFile>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    this.file = new DurableJsonFile<TokensFile>(join(this.dir, 'tokens.json'));
    const raw = await this.file.read();
    if (raw === null) return;
    try {
      this.data = fileSchema.parse(raw);
    } catch (e) {
      if (e instanceof SchemaError) throw new Error(`tokens.json is invalid: ${e.message}`);
      throw e;
    }
  }

  list(user?: string): TokenInfo[] {
    return this.data.tokens.filter((t) => user === undefined || t.user === user).map(({ id, label, user: u, created }) => ({ id, label, user: u, created }));
  }

  /** Makes a token for `user`; the returned `token` is the only time its secret exists outside the caller. */
  create(user: string, label: string): Promise<TokenInfo & { token: string }> {
    return this.serialised(async () => {
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const t = { id, label, user, hash: sha256(secret), created: this.clock.now() };
      this.data = { ...this.data, tokens: [...this.data.tokens, t] };
      await this.file!.write(this.data);
      return { id, label, user, created: t.created, token: `dvr_${id}.${secret}` };
    });
  }

  /** Removes one token (false if there was none with that id); `user` limits it to that user's own. */
  revoke(id: string, user?: string): Promise<boolean> {
    return this.serialised(async () => {
      const keep = this.data.tokens.filter((t) => !(t.id === id && (user === undefined || t.user === user)));
      if (keep.length === this.data.tokens.length) return false;
      this.data = { ...this.data, tokens: keep };
      await this.file!.write(this.data);
      return true;
    });
  }

  /** Factory reset: no token outlives the accounts it acted for. */
  eraseAll(): Promise<void> {
    return this.serialised(async () => {
      this.data = { ...this.data, tokens: [] };
      await this.file!.write(this.data);
    });
  }

  /** Whose a presented token is and when it was made, or null. */
  verify(presented: string): { user: string; created: number } | null {
    const m = FORMAT.exec(presented);
    if (!m) return null;
    const t = this.data.tokens.find((x) => x.id === m[1]);
    if (!t) return null;
    return timingSafeEqual(Buffer.from(t.hash, 'hex'), Buffer.from(sha256(m[2]!), 'hex')) ? { user: t.user, created: t.created } : null;
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
