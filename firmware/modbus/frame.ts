// Request frames of the four functions an alarm I/O module needs, and the
// validation of their replies. A request knows the exact reply it expects,
// so a reply is checked against it field by field, not just by CRC.
import { crc16, withCrc } from './crc.js';
import { ModbusError, ModbusException, hex } from './errors.js';

export const READ_COILS = 0x01;
export const READ_DISCRETE_INPUTS = 0x02;
export const WRITE_SINGLE_COIL = 0x05;
export const WRITE_MULTIPLE_COILS = 0x0f;
export type FunctionCode = typeof READ_COILS | typeof READ_DISCRETE_INPUTS | typeof WRITE_SINGLE_COIL | typeof WRITE_MULTIPLE_COILS;

/** Limits of the spec (v1.1b3, 6.1, 6.2, 6.11): a PDU never exceeds 253 bytes. */
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_COILS = 0x7b0;
/** Exception reply: address, function | 0x80, code, CRC. */
export const EXCEPTION_LENGTH = 5;

/** One request, with what its reply must be. */
export interface ModbusRequest<T> {
  /** Device address 1..247 (0, broadcast, has no reply and is not offered). */
  readonly address: number;
  readonly fn: FunctionCode;
  /** The whole ADU: address, PDU, CRC. */
  readonly frame: Uint8Array;
  /** Length of the normal (non-exception) reply, CRC included. */
  readonly replyLength: number;
  /**
   * Checks a CRC-valid frame from `address` whose function byte is `fn` and
   * returns its value; throws ModbusError('EBADREPLY') when it does not answer
   * this request. Exceptions are decoded by decodeReply, not here.
   */
  check(frame: Uint8Array): T;
  /** For logs: "read discrete inputs 0..7". */
  readonly what: string;
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(what);
}

function checkAddress(address: number): void {
  need(Number.isInteger(address) && address >= 1 && address <= 247, `Modbus device address must be 1..247, got ${address}`);
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

function unpackBits(bytes: Uint8Array, offset: number, count: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push(((bytes[offset + (i >> 3)]! >> (i & 7)) & 1) === 1);
  return out;
}

/** Coil/input values packed 8 to a byte, first one in the lowest bit; unused high bits zero. */
export function packBits(values: readonly boolean[]): number[] {
  const out = new Array<number>(Math.ceil(values.length / 8)).fill(0);
  values.forEach((v, i) => {
    if (v) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

function bad(request: { address: number; what: string }, why: string): ModbusError {
  return new ModbusError('EBADREPLY', `device ${request.address}, ${request.what}: ${why}`);
}

function readBits(fn: typeof READ_COILS | typeof READ_DISCRETE_INPUTS, address: number, start: number, quantity: number): ModbusRequest<boolean[]> {
  checkAddress(address);
  need(Number.isInteger(quantity) && quantity >= 1 && quantity <= MAX_READ_BITS, `quantity must be 1..${MAX_READ_BITS}, got ${quantity}`);
  need(Number.isInteger(start) && start >= 0 && start + quantity <= 0x10000, `start ${start} + quantity ${quantity} is outside 0..65535`);
  const byteCount = Math.ceil(quantity / 8);
  const what = `${fn === READ_COILS ? 'read coils' : 'read discrete inputs'} ${start}..${start + quantity - 1}`;
  const request: ModbusRequest<boolean[]> = {
    address,
    fn,
    frame: withCrc([address, fn, start >> 8, start & 0xff, quantity >> 8, quantity & 0xff]),
    replyLength: 5 + byteCount,
    what,
    check(frame) {
      if (frame[2] !== byteCount) throw bad(request, `byte count ${frame[2]}, expected ${byteCount}`);
      if (frame.length !== 5 + byteCount) throw bad(request, `length ${frame.length}, expected ${5 + byteCount}`);
      return unpackBits(frame, 3, quantity);
    },
  };
  return request;
}

export function readCoils(address: number, start: number, quantity: number): ModbusRequest<boolean[]> {
  return readBits(READ_COILS, address, start, quantity);
}

export function readDiscreteInputs(address: number, start: number, quantity: number): ModbusRequest<boolean[]> {
  return readBits(READ_DISCRETE_INPUTS, address, start, quantity);
}

/** Coil on is FF 00, off 00 00; the reply echoes the request. */
export function writeSingleCoil(address: number, coil: number, on: boolean): ModbusRequest<void> {
  checkAddress(address);
  need(Number.isInteger(coil) && coil >= 0 && coil <= 0xffff, `coil must be 0..65535, got ${coil}`);
  const frame = withCrc([address, WRITE_SINGLE_COIL, coil >> 8, coil & 0xff, on ? 0xff : 0x00, 0x00]);
  const request: ModbusRequest<void> = {
    address,
    fn: WRITE_SINGLE_COIL,
    frame,
    replyLength: 8,
    what: `write coil ${coil} ${on ? 'on' : 'off'}`,
    check(reply) {
      if (reply.length !== 8) throw bad(request, `length ${reply.length}, expected 8`);
      for (let i = 2; i < 6; i++) if (reply[i] !== frame[i]) throw bad(request, `echo ${hexOf(reply.subarray(2, 6))} differs from the request`);
    },
  };
  return request;
}

/** The reply echoes start and quantity. */
export function writeMultipleCoils(address: number, start: number, values: readonly boolean[]): ModbusRequest<void> {
  checkAddress(address);
  const quantity = values.length;
  need(quantity >= 1 && quantity <= MAX_WRITE_COILS, `quantity must be 1..${MAX_WRITE_COILS}, got ${quantity}`);
  need(Number.isInteger(start) && start >= 0 && start + quantity <= 0x10000, `start ${start} + quantity ${quantity} is outside 0..65535`);
  const data = packBits(values);
  const frame = withCrc([address, WRITE_MULTIPLE_COILS, start >> 8, start & 0xff, quantity >> 8, quantity & 0xff, data.length, ...data]);
  const request: ModbusRequest<void> = {
    address,
    fn: WRITE_MULTIPLE_COILS,
    frame,
    replyLength: 8,
    what: `write coils ${start}..${start + quantity - 1}`,
    check(reply) {
      if (reply.length !== 8) throw bad(request, `length ${reply.length}, expected 8`);
      if (u16(reply, 2) !== start || u16(reply, 4) !== quantity) {
        throw bad(request, `echo start ${u16(reply, 2)} quantity ${u16(reply, 4)}, expected ${start} and ${quantity}`);
      }
    },
  };
  return request;
}

const hexOf = (b: Uint8Array): string => Array.from(b, hex).join(' ');

/**
 * The value of a complete reply frame to `request`: CRC, address and function
 * checked, an exception reply thrown as ModbusException, anything else that
 * does not answer the request thrown as ModbusError('EBADREPLY'). Never
 * throws anything else, whatever the bytes.
 */
export function decodeReply<T>(request: ModbusRequest<T>, frame: Uint8Array): T {
  if (frame.length < EXCEPTION_LENGTH) throw bad(request, `frame of ${frame.length} bytes is too short`);
  const crc = crc16(frame, 0, frame.length - 2);
  if (frame[frame.length - 2] !== (crc & 0xff) || frame[frame.length - 1] !== crc >>> 8) throw bad(request, `CRC error in ${hexOf(frame)}`);
  if (frame[0] !== request.address) throw bad(request, `reply from device ${frame[0]}`);
  if (frame[1] === (request.fn | 0x80)) {
    if (frame.length !== EXCEPTION_LENGTH) throw bad(request, `exception reply of ${frame.length} bytes`);
    throw new ModbusException(request.fn, frame[2]!, request.address);
  }
  if (frame[1] !== request.fn) throw bad(request, `reply to function 0x${hex(frame[1]!)}`);
  return request.check(frame);
}
