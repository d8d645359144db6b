import { join } from 'node:path';
import { DurableJsonFile } from '../config/durable-file.js';
import { digestHa1 } from '../media/rtsp/server-auth.js';
import { RESTREAM_REALM } from './restream-service.js';

interface CredentialsFile {
  version: 1;
  /** user name → hex MD5("user:realm:password") for realm `realm`. */
  ha1: Record<string, string>;
  realm: string;
}

/**
 * The Digest secrets of the RTSP restream, one per account, in
 * `rtsp-users.json` (0600, beside `users.json`). Digest cannot use the
 * accounts' scrypt hashes, so whoever sets a password (account creation,
 * password change) also calls `set()` here with it; removing an account
 * calls `remove()`. An account without an entry simply cannot log in over
 * RTSP until its password is next set. HA1 is password-equivalent for RTSP
 * only and is never logged.
 */
export class RtspCredentials {
  private data: CredentialsFile = { version: 1, ha1: {}, realm: RESTREAM_REALM };
  private file?: DurableJsonFile<CredentialsFile>;

  constructor(
    private readonly dir: string,
    readonly realm = RESTREAM_REALM,
  ) {}

  async load(): Promise<void> {
    this.file = new DurableJsonFile<CredentialsFile>(join(this.dir, 'rtsp-users.json'));
    const raw = await this.file.read();
    const valid =
      raw !== null && raw.version === 1 && raw.realm === this.realm && typeof raw.ha1 === 'object' && raw.ha1 !== null &&
      Object.entries(raw.ha1).every(([k, v]) => typeof k === 'string' && typeof v === 'string' && /^[0-9a-f]{32}$/.test(v));
    // A file for another realm or damaged: its entries cannot verify anything; start empty.
    this.data = valid ? { version: 1, realm: this.realm, ha1: Object.assign(Object.create(null) as Record<string, string>, raw.ha1) } : { version: 1, realm: this.realm, ha1: Object.create(null) as Record<string, string> };
  }

  async set(username: string, password: string): Promise<void> {
    const ha1 = digestHa1(username, this.realm, password);
    // Called at every web login too: only a new secret is written.
    if (this.data.ha1[username] === ha1) return;
    this.data.ha1[username] = ha1;
    await this.save();
  }

  async remove(username: string): Promise<void> {
    if (!(username in this.data.ha1)) return;
    delete this.data.ha1[username];
    await this.save();
  }

  /** For RestreamUsers.ha1. */
  ha1(username: string, realm: string): string | null {
    return realm === this.realm ? (this.data.ha1[username] ?? null) : null;
  }

  private async save(): Promise<void> {
    if (!this.file) throw new Error('RTSP credentials not loaded');
    await this.file.write(this.data);
  }
}
