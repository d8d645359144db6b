import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { array, int, literal, object, SchemaError, string, type Infer } from '../../core/schema.js';
import { DurableJsonFile } from '../../config/durable-file.js';
import { DUMMY_HASH, hashPassword, passwordProblems, verifyPassword } from './password.js';
import { channelRightsSchema, roleSchema, usernameSchema, type ChannelRights, type Role } from './roles.js';

const fileSchema = object({
  version: literal(1),
  users: array(
    object({
      name: usernameSchema,
      role: roleSchema,
      hash: string({ min: 1, max: 512 }),
      channels: channelRightsSchema.optional(),
      created: int({ min: 0 }),
      passwordChanged: int({ min: 0 }),
    }),
    { max: 64 },
  ),
});
type UsersFile = Infer<typeof fileSchema>;

/** An account as the rest of the firmware sees it: never with its hash. */
export interface Account {
  name: string;
  role: Role;
  channels: ChannelRights | null;
  created: number;
  passwordChanged: number;
}

export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly code: 'invalid' | 'exists' | 'not-found' | 'weak-password' | 'setup-done' | 'last-admin',
  ) {
    super(message);
  }
}

/**
 * Told each password the store accepts or verifies, and each account removed,
 * for secrets other protocols need in their own form (the RTSP restream's
 * Digest HA1). A hook that fails is the caller's error: the account change
 * itself has already been saved.
 */
export interface PasswordHooks {
  passwordSet?(name: string, password: string): Promise<void>;
  removed?(name: string): Promise<void>;
}

/**
 * The accounts, kept in `users.json` beside the config (not inside it, so a
 * config backup or `dvr config get` never carries password hashes). There is
 * no default account: until the installer creates the first admin, the box
 * is in setup mode and nothing but setup is served.
 */
export class UserStore {
  private data: UsersFile = { version: 1, users: [] };
  private file?: DurableJsonFile<UsersFile>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly hooks: PasswordHooks = {},
  ) {}

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.file = new DurableJsonFile<UsersFile>(join(this.dir, 'users.json'));
    const raw = await this.file.read();
    if (raw === null) return;
    try {
      this.data = fileSchema.parse(raw);
    } catch (e) {
      if (e instanceof SchemaError) throw new Error(`users.json is invalid: ${e.message}`);
      throw e;
    }
  }

  get setupNeeded(): boolean {
    return this.data.users.length === 0;
  }

  list(): Account[] {
    return this.data.users.map((u) => this.account(u));
  }

  get(name: string): Account | null {
    const u = this.data.users.find((x) => x.name === name);
    return u ? this.account(u) : null;
  }

  /** First boot only: the installer's admin account. */
  createFirstAdmin(name: string, password: string): Promise<Account> {
    return this.serialised(async () => {
      if (!this.setupNeeded) throw new UserError('setup is already done', 'setup-done');
      return this.insert(name, 'admin', password, null);
    });
  }

  addUser(name: string, role: Role, password: string, channels: ChannelRights | null = null): Promise<Account> {
    return this.serialised(() => this.insert(name, role, password, channels));
  }

  setPassword(name: string, password: string): Promise<void> {
    return this.serialised(async () => {
      const u = this.find(name);
      this.checkPassword(password, name);
      u.hash = await hashPassword(password);
      u.passwordChanged = this.clock.now();
      await this.save();
      await this.hooks.passwordSet?.(name, password);
    });
  }

  setRole(name: string, role: Role, channels: ChannelRights | null): Promise<Account> {
    return this.serialised(async () => {
      const u = this.find(name);
      if (u.role === 'admin' && role !== 'admin') this.keepOneAdmin(name);
      u.role = roleSchema.parse(role);
      if (channels === null) delete u.channels;
      else u.channels = channelRightsSchema.parse(channels);
      await this.save();
      return this.account(u);
    });
  }

  removeUser(name: string): Promise<void> {
    return this.serialised(async () => {
      const u = this.find(name);
      if (u.role === 'admin') this.keepOneAdmin(name);
      this.data.users = this.data.users.filter((x) => x !== u);
      await this.save();
      await this.hooks.removed?.(name);
    });
  }

  /** Factory reset: every account goes (the box asks for a new admin, as on first boot). */
  eraseAll(): Promise<void> {
    return this.serialised(async () => {
      const names = this.data.users.map((u) => u.name);
      this.data = { ...this.data, users: [] };
      await this.save();
      for (const n of names) await this.hooks.removed?.(n);
    });
  }

  /** The account when the password is right, else null. Takes the same time whether or not the user exists. */
  async authenticate(name: string, password: string): Promise<Account | null> {
    const u = this.data.users.find((x) => x.name === name);
    const ok = await verifyPassword(password, u?.hash ?? DUMMY_HASH);
    if (!ok || !u) return null;
    // Accounts made before a hook existed get its secret at their next login.
    await this.hooks.passwordSet?.(name, password);
    return this.account(u);
  }

  private async insert(name: string, role: Role, password: string, channels: ChannelRights | null): Promise<Account> {
    try {
      usernameSchema.parse(name);
      roleSchema.parse(role);
      if (channels) channelRightsSchema.parse(channels);
    } catch (e) {
      throw new UserError(`user name: ${(e as Error).message.replace(/^\(root\): /, '')}`, 'invalid');
    }
    if (this.data.users.some((u) => u.name === name)) throw new UserError(`user "${name}" already exists`, 'exists');
    this.checkPassword(password, name);
    const now = this.clock.now();
    const u = { name, role, hash: await hashPassword(password), created: now, passwordChanged: now, ...(channels ? { channels } : {}) };
    this.data.users.push(u);
    await this.save();
    await this.hooks.passwordSet?.(name, password);
    return this.account(u);
  }

  private checkPassword(password: string, name: string): void {
    const problems = passwordProblems(password, name);
    if (problems.length) throw new UserError(`password ${problems.join('; ')}`, 'weak-password');
  }

  private keepOneAdmin(name: string): void {
    if (!this.data.users.some((u) => u.role === 'admin' && u.name !== name)) {
      throw new UserError('the last admin account cannot be removed or demoted', 'last-admin');
    }
  }

  private find(name: string): UsersFile['users'][number] {
    const u = this.data.users.find((x) => x.name === name);
    if (!u) throw new UserError(`no user "${name}"`, 'not-found');
    return u;
  }

  private account(u: UsersFile['users'][number]): Account {
    return { name: u.name, role: u.role, channels: u.channels ?? null, created: u.created, passwordChanged: u.passwordChanged };
  }

  private async save(): Promise<void> {
    if (!this.file) throw new Error('user store not loaded');
    await this.file.write(this.data);
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
