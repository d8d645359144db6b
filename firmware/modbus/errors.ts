// Typed failures of a Modbus transaction. Callers branch on `code`; an
// exception reply also carries the device's exception code.

export type ModbusErrorCode =
  /** No valid reply within the request's timeout. */
  | 'ETIMEDOUT'
  /** The device answered with an exception (function | 0x80). */
  | 'EEXCEPTION'
  /** A frame with a good CRC from the right device that does not answer the request (byte count, echo). */
  | 'EBADREPLY'
  /** The bus gave the request up: queue overflow, bus closed, write failure. */
  | 'EDROPPED'
  | 'EQUEUEFULL'
  | 'ECLOSED'
  | 'EIO';

export class ModbusError extends Error {
  constructor(
    readonly code: ModbusErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

/** Exception codes of the Modbus application protocol v1.1b3, section 7. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  0x01: 'illegal function',
  0x02: 'illegal data address',
  0x03: 'illegal data value',
  0x04: 'server device failure',
  0x05: 'acknowledge',
  0x06: 'server device busy',
  0x08: 'memory parity error',
  0x0a: 'gateway path unavailable',
  0x0b: 'gateway target device failed to respond',
};

export class ModbusException extends ModbusError {
  constructor(
    readonly functionCode: number,
    readonly exceptionCode: number,
    readonly address: number,
  ) {
    const name = EXCEPTION_NAMES[exceptionCode] ?? 'unknown exception';
    super('EEXCEPTION', `device ${address} refused function 0x${hex(functionCode)}: exception ${exceptionCode} (${name})`);
    this.name = 'ModbusException';
  }
}

export const hex = (n: number): string => n.toString(16).padStart(2, '0');
