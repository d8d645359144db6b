export { crc16, crcOk, withCrc } from './crc.js';
export { EXCEPTION_NAMES, ModbusError, ModbusException, type ModbusErrorCode } from './errors.js';
export {
  EXCEPTION_LENGTH,
  MAX_READ_BITS,
  MAX_WRITE_COILS,
  READ_COILS,
  READ_DISCRETE_INPUTS,
  WRITE_MULTIPLE_COILS,
  WRITE_SINGLE_COIL,
  decodeReply,
  packBits,
  readCoils,
  readDiscreteInputs,
  writeMultipleCoils,
  writeSingleCoil,
  type FunctionCode,
  type ModbusRequest,
} from './frame.js';
export { ReplyReader, type ModbusOutcome } from './reader.js';
export { ModbusClient, type ModbusClientOptions, type RequestChannel } from './client.js';
export { interFrameMs } from './timing.js';
