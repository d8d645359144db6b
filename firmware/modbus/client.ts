// A Modbus RTU master for one device, over anything that can send a frame
// and read its reply with a timeout: drivers/serial's BusDevice (the shared
// RS-485 bus) fits structurally, so this package stays free of wiring.
import { ModbusError, type ModbusErrorCode } from './errors.js';
import { readCoils, readDiscreteInputs, writeMultipleCoils, writeSingleCoil, type ModbusRequest } from './frame.js';
import { ReplyReader, type ModbusOutcome } from './reader.js';

/** What the client needs of the line: BusDevice.request's shape. */
export interface RequestChannel {
  request<R>(frame: Uint8Array, parser: { push(chunk: Uint8Array): R | undefined }, timeoutMs: number): Promise<R>;
}

export interface ModbusClientOptions {
  channel: RequestChannel;
  /** The device's address, 1..247, as set on its DIP switches. */
  address: number;
  /** Per request, from the write of the request to the end of the reply (default 150 ms). */
  timeoutMs?: number;
}

const BUS_CODES = new Set<ModbusErrorCode>(['ETIMEDOUT', 'EDROPPED', 'EQUEUEFULL', 'ECLOSED', 'EIO']);

export class ModbusClient {
  readonly address: number;
  readonly timeoutMs: number;

  constructor(private readonly options: ModbusClientOptions) {
    this.address = options.address;
    this.timeoutMs = options.timeoutMs ?? 150;
  }

  readCoils(start: number, quantity: number): Promise<boolean[]> {
    return this.run(readCoils(this.address, start, quantity));
  }

  readDiscreteInputs(start: number, quantity: number): Promise<boolean[]> {
    return this.run(readDiscreteInputs(this.address, start, quantity));
  }

  writeCoil(coil: number, on: boolean): Promise<void> {
    return this.run(writeSingleCoil(this.address, coil, on));
  }

  writeCoils(start: number, values: readonly boolean[]): Promise<void> {
    return this.run(writeMultipleCoils(this.address, start, values));
  }

  /** Sends `request` and returns its value; every failure is a ModbusError (ModbusException for exception replies). */
  async run<T>(request: ModbusRequest<T>): Promise<T> {
    let outcome: ModbusOutcome<T>;
    try {
      outcome = await this.options.channel.request(request.frame, new ReplyReader(request), this.timeoutMs);
    } catch (e) {
      // The bus's errors (BusError) carry the same codes; keep them, word them for Modbus.
      const code = (e as { code?: unknown }).code;
      const c: ModbusErrorCode = typeof code === 'string' && BUS_CODES.has(code as ModbusErrorCode) ? (code as ModbusErrorCode) : 'EIO';
      const why = c === 'ETIMEDOUT' ? `no reply within ${this.timeoutMs} ms` : (e as Error).message;
      throw new ModbusError(c, `device ${this.address}, ${request.what}: ${why}`);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}
