// One serial port (a UART with an RS-485 transceiver, or a USB adapter) on
// the serialport package. serialport has no RS-485 option, so kernel RS-485
// mode is set here with TIOCSRS485 on the descriptor serialport opened.
import { SerialPort } from 'serialport';
import { SysError } from '../libc/index.js';
import { setRs485, setRs485OnPath, type Rs485Config, type Rs485Options } from './rs485.js';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

/**
 * Called with true before a frame is written and false once it has left the
 * UART: for boards whose transceiver's driver-enable is a GPIO, not RTS.
 */
export type DirectionHook = (transmit: boolean) => void | Promise<void>;

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 1.5 | 2;
  /** Ask the kernel for RS-485 mode (true = defaults). Failure is reported in `rs485`, never thrown. */
  rs485?: boolean | Rs485Options;
  direction?: DirectionHook;
}

export interface Rs485Status {
  requested: boolean;
  enabled: boolean;
  /** What the driver accepted, when enabled. */
  config?: Rs485Config;
  /** Why it is not enabled, e.g. "ioctl(TIOCSRS485) on /dev/pts/3: ENOTTY (...)". */
  error?: string;
  /** errno name of the failure: ENOTTY on ptys and UARTs without RS-485 support. */
  code?: string;
}

/** The byte-level interface the bus needs; SerialLine is the real one. */
export interface ByteLine {
  readonly baudRate: number;
  write(data: Uint8Array): Promise<void>;
  setBaudRate(baudRate: number): Promise<void>;
  onData(listener: (chunk: Buffer) => void): () => void;
}

export class SerialLine implements ByteLine {
  #port: SerialPort | undefined;
  #baud: number;
  #listeners = new Set<(chunk: Buffer) => void>();
  #rs485: Rs485Status = { requested: false, enabled: false };

  constructor(readonly options: SerialLineOptions) {
    this.#baud = options.baudRate;
  }

  get isOpen(): boolean {
    return this.#port?.isOpen ?? false;
  }

  get baudRate(): number {
    return this.#baud;
  }

  get rs485(): Rs485Status {
    return { ...this.#rs485 };
  }

  async open(): Promise<void> {
    if (this.#port) throw new Error(`serial line ${this.options.path} is already open`);
    const o = this.options;
    const port = new SerialPort({
      path: o.path,
      baudRate: o.baudRate,
      dataBits: o.dataBits ?? 8,
      parity: o.parity ?? 'none',
      stopBits: o.stopBits ?? 1,
      autoOpen: false,
      // Never take the line's lock away from another process silently.
      lock: true,
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    this.#port = port;
    this.#baud = o.baudRate;
    // A port error (unplugged USB adapter) must not become an uncaught 'error' event.
    port.on('error', () => {});
    port.on('data', (chunk: Buffer) => {
      for (const l of this.#listeners) l(chunk);
    });
    this.#rs485 = this.#applyRs485(port);
  }

  #applyRs485(port: SerialPort): Rs485Status {
    const want = this.options.rs485;
    if (!want) return { requested: false, enabled: false };
    const options = want === true ? {} : want;
    try {
      // serialport's Linux binding keeps the descriptor it opened in `port.port.fd`.
      const fd = (port.port as { fd?: unknown } | undefined)?.fd;
      const config =
        typeof fd === 'number' && fd >= 0
          ? setRs485(fd, options, this.options.path)
          : setRs485OnPath(this.options.path, options);
      return { requested: true, enabled: config.enabled, config };
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return { requested: true, enabled: false, error: e.message, code: e.code };
    }
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Writes and waits until the bytes have left the UART (tcdrain), framing the direction hook. */
  async write(data: Uint8Array): Promise<void> {
    const port = this.#requirePort();
    const hook = this.options.direction;
    if (hook) await hook(true);
    try {
      await new Promise<void>((resolve, reject) => {
        port.write(Buffer.from(data), (e) => (e ? reject(e) : undefined));
        port.drain((e) => (e ? reject(e) : resolve()));
      });
    } finally {
      if (hook) await hook(false);
    }
  }

  async setBaudRate(baudRate: number): Promise<void> {
    if (baudRate === this.#baud) return;
    const port = this.#requirePort();
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
    this.#baud = baudRate;
  }

  async close(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #requirePort(): SerialPort {
    if (!this.#port?.isOpen) throw new Error(`serial line ${this.options.path} is not open`);
    return this.#port;
  }
}
