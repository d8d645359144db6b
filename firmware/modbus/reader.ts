// Finds the reply to one request in the bytes a serial line delivers: split
// across reads, after line noise, after the tail of a frame cut short (a
// module rebooting), or after another device's late answer. Modbus RTU has
// no sync byte; a frame is recognised by the expected address and function
// at its start and a matching CRC at the length those imply, so every offset
// is tried and only whole, checked frames are taken.
import { crcOk } from './crc.js';
import { ModbusError } from './errors.js';
import { EXCEPTION_LENGTH, READ_COILS, READ_DISCRETE_INPUTS, decodeReply, type ModbusRequest } from './frame.js';

/** How a request ended: a value, or a typed error from the device's reply. */
export type ModbusOutcome<T> = { ok: true; value: T } | { ok: false; error: ModbusError };

/**
 * A bus ReplyParser (drivers/serial) for one request. `push` returns the
 * outcome once a CRC-valid frame from the device answers (a value, an
 * exception, or EBADREPLY when it does not match the request), undefined
 * until then. It never throws, whatever it is fed.
 */
export class ReplyReader<T> {
  #buf = new Uint8Array(0);
  /** Bytes dropped as not being the start of the reply. */
  discarded = 0;

  constructor(readonly request: ModbusRequest<T>) {}

  push(chunk: Uint8Array): ModbusOutcome<T> | undefined {
    const buf = new Uint8Array(this.#buf.length + chunk.length);
    buf.set(this.#buf);
    buf.set(chunk, this.#buf.length);
    const { address, fn } = this.request;
    const counted = fn === READ_COILS || fn === READ_DISCRETE_INPUTS;
    // The first offset that may still turn out to start the reply once more bytes come.
    let keep = buf.length;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] !== address) continue;
      if (i + 1 >= buf.length) {
        keep = Math.min(keep, i);
        break;
      }
      const f = buf[i + 1];
      let length: number | undefined;
      if (f === (fn | 0x80)) length = EXCEPTION_LENGTH;
      else if (f === fn) length = counted ? (i + 2 < buf.length ? 5 + buf[i + 2]! : undefined) : this.request.replyLength;
      else continue;
      if (length === undefined || i + length > buf.length) {
        keep = Math.min(keep, i);
        continue; // a complete frame may still start further on
      }
      if (!crcOk(buf, i, i + length)) continue;
      this.discarded += i;
      this.#buf = new Uint8Array(0);
      try {
        return { ok: true, value: decodeReply(this.request, buf.slice(i, i + length)) };
      } catch (e) {
        if (e instanceof ModbusError) return { ok: false, error: e };
        throw e;
      }
    }
    this.discarded += keep;
    this.#buf = buf.slice(keep);
    return undefined;
  }

  /** Bytes held that may still begin the reply (at most one frame's worth). */
  get buffered(): number {
    return this.#buf.length;
  }
}
