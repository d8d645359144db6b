// Linux watchdog device API, Documentation/watchdog/watchdog-api.rst.
import { constants } from 'node:os';
import { O_CLOEXEC, O_WRONLY, SysError, close, ioctlIntRef, open, write } from '../libc/index.js';
import { WDIOC_GETTIMEOUT, WDIOC_KEEPALIVE, WDIOC_SETTIMEOUT } from './ioctls.js';

const { ENOTTY, EINVAL, EOPNOTSUPP } = constants.errno;

// Any write pets the dog, but a 'V' arms the magic close, so pets must not be 'V'.
const PET = Buffer.from([0]);
const MAGIC = Buffer.from('V');

export interface CloseOptions {
  /**
   * Write 'V' first so the kernel disarms the watchdog (default true).
   * False leaves it armed: the board resets unless someone reopens it in time.
   */
  magic?: boolean;
}

/** /dev/watchdog: once opened, the board resets unless keepalive() is called within the timeout. */
export class HardwareWatchdog {
  #fd = -1;
  #path = '';
  #petByWrite = false;

  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /** Opening arms the watchdog. */
  open(path = '/dev/watchdog'): this {
    if (this.isOpen) throw new Error(`watchdog already open on ${this.#path}`);
    // O_CLOEXEC: a child holding the descriptor would keep the dog armed after we die
    // and make a later magic close ineffective.
    this.#fd = open(path, O_WRONLY | O_CLOEXEC);
    this.#path = path;
    this.#petByWrite = false;
    return this;
  }

  /** Request a timeout in seconds; returns the one the driver actually chose. */
  setTimeout(seconds: number): number {
    if (!Number.isInteger(seconds) || seconds <= 0) {
      throw new RangeError(`watchdog timeout must be a positive integer of seconds, got ${seconds}`);
    }
    return ioctlIntRef(this.#requireFd(), WDIOC_SETTIMEOUT, seconds, this.#context('WDIOC_SETTIMEOUT'));
  }

  /** Current timeout in seconds. */
  getTimeout(): number {
    return ioctlIntRef(this.#requireFd(), WDIOC_GETTIMEOUT, 0, this.#context('WDIOC_GETTIMEOUT'));
  }

  /** Pet the dog. */
  keepalive(): void {
    const fd = this.#requireFd();
    if (!this.#petByWrite) {
      try {
        ioctlIntRef(fd, WDIOC_KEEPALIVE, 0, this.#context('WDIOC_KEEPALIVE'));
        return;
      } catch (error) {
        // EOPNOTSUPP: driver lacks WDIOF_KEEPALIVEPING; ENOTTY/EINVAL: no ioctl
        // support at all. Writing is the API's baseline, so remember and use it.
        if (!(error instanceof SysError) || ![ENOTTY, EINVAL, EOPNOTSUPP].includes(error.errno)) throw error;
        this.#petByWrite = true;
      }
    }
    write(fd, PET, { path: this.#path });
  }

  /** Close the device; see CloseOptions.magic. Closing twice is a no-op. */
  close({ magic = true }: CloseOptions = {}): void {
    if (!this.isOpen) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      if (magic) write(fd, MAGIC, { path: this.#path });
    } finally {
      close(fd, { path: this.#path });
    }
  }

  #requireFd(): number {
    if (!this.isOpen) throw new Error('watchdog is not open');
    return this.#fd;
  }

  #context(name: string): { path: string; name: string } {
    return { path: this.#path, name };
  }
}
