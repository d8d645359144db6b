// The Modbus RTU codec against frames computed by hand and frames published
// for real 8-channel relay boards.
import t from 'tap';
import {
  ModbusError,
  ModbusException,
  crc16,
  crcOk,
  decodeReply,
  interFrameMs,
  packBits,
  readCoils,
  readDiscreteInputs,
  withCrc,
  writeMultipleCoils,
  writeSingleCoil,
} from '../../../firmware/modbus/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
const bytes = (s: string): Uint8Array => Buffer.from(s.replace(/ /g, ''), 'hex');

t.test('CRC-16/MODBUS: the spec example, worked by hand', async (t) => {
  // Serial line spec v1.02, 6.2.2: CRC register 0xFFFF; for each byte XOR it into
  // the low byte, then 8 times: shift right, XOR 0xA001 if a 1 fell out.
  // 01: FFFF^01 = FFFE; shifts: 7FFF, then 1 out → 3FFF^A001 = 9FFE ... the
  // full run over 01 03 00 6B 00 03 ends at 0x1774, sent low byte first: 74 17.
  t.equal(crc16(bytes('01 03 00 6B 00 03')), 0x1774);
  t.equal(hex(withCrc(bytes('01 03 00 6B 00 03'))), '01 03 00 6b 00 03 74 17');
  // The application protocol spec's device 0x11 example (read holding registers 108..110).
  t.equal(hex(withCrc(bytes('11 03 00 6B 00 03'))), '11 03 00 6b 00 03 76 87');
  // Check value of CRC-16/MODBUS over ASCII "123456789" (Greg Cook's CRC catalogue): 0x4B37.
  t.equal(crc16(Buffer.from('123456789')), 0x4b37);
  t.ok(crcOk(bytes('01 03 00 6B 00 03 74 17')));
  t.notOk(crcOk(bytes('01 03 00 6B 00 03 17 74')), 'byte order matters: low byte first');
  t.notOk(crcOk(bytes('74 17')), 'too short to be a frame');
});

t.test('the first steps of the spec example by hand', async (t) => {
  // After the first byte (01): FFFE → 7FFF (0 out) → 3FFF^A001=9FFE (1 out) → 4FFF (0)
  // → 27FF^A001=87FE (1) → 43FF (0) → 21FF^A001=81FE (1) → 40FF (0) → 207F^A001=807E (1).
  t.equal(crc16([0x01]), 0x807e);
});

t.test('requests: the frames published for 8-channel relay boards at address 1', async (t) => {
  // Widely published command tables of "Modbus RTU 8 channel relay" boards.
  t.equal(hex(writeSingleCoil(1, 0, true).frame), '01 05 00 00 ff 00 8c 3a', 'relay 1 on');
  t.equal(hex(writeSingleCoil(1, 0, false).frame), '01 05 00 00 00 00 cd ca', 'relay 1 off');
  t.equal(hex(writeMultipleCoils(1, 0, new Array(8).fill(true)).frame), '01 0f 00 00 00 08 01 ff be d5', 'all on');
  t.equal(hex(writeMultipleCoils(1, 0, new Array(8).fill(false)).frame), '01 0f 00 00 00 08 01 00 fe 95', 'all off');
  t.equal(hex(readCoils(1, 0, 8).frame), '01 01 00 00 00 08 3d cc', 'read relay states');
  t.equal(hex(readDiscreteInputs(1, 0, 8).frame), '01 02 00 00 00 08 79 cc', 'read inputs');
});

t.test('requests: field layout', async (t) => {
  // Address 0x11, read inputs 197..218 (spec 6.2 example: 11 02 00 C4 00 16), CRC by the table.
  const r = readDiscreteInputs(0x11, 0xc4, 0x16);
  t.equal(hex(r.frame.subarray(0, 6)), '11 02 00 c4 00 16');
  t.equal(r.replyLength, 5 + 3, '22 inputs: 3 data bytes');
  // Write coils 20..29 = CD 01 (spec 6.11 example: 0F 00 13 00 0A 02 CD 01).
  const bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0].map(Boolean);
  t.same(packBits(bits), [0xcd, 0x01]);
  t.equal(hex(writeMultipleCoils(0x11, 0x13, bits).frame.subarray(0, 9)), '11 0f 00 13 00 0a 02 cd 01');
  t.throws(() => readCoils(0, 0, 8), /address must be 1..247/);
  t.throws(() => readCoils(248, 0, 8), /address must be 1..247/);
  t.throws(() => readCoils(1, 0, 0), /quantity must be 1..2000/);
  t.throws(() => readCoils(1, 0xfff0, 100), /outside 0..65535/);
  t.throws(() => writeMultipleCoils(1, 0, []), /quantity must be/);
});

t.test('replies: values, validation, exceptions', async (t) => {
  // Spec 6.2 example reply: inputs 197..218 = AC DB 35.
  const r = readDiscreteInputs(0x11, 0xc4, 0x16);
  const v = decodeReply(r, withCrc(bytes('11 02 03 AC DB 35')));
  t.same(v.slice(0, 8), [0, 0, 1, 1, 0, 1, 0, 1].map(Boolean), 'AC: inputs 197..204, first in the lowest bit');
  t.equal(v.length, 22, 'the padding bits of the last byte are not values');
  t.same(v.slice(16), [1, 0, 1, 0, 1, 1].map(Boolean), '35: the last 6');
  // An 8-input board with inputs 1 and 3 on.
  t.same(decodeReply(readDiscreteInputs(1, 0, 8), withCrc([1, 2, 1, 0x05])), [1, 0, 1, 0, 0, 0, 0, 0].map(Boolean));
  t.equal(hex(withCrc([1, 2, 1, 0x05])), '01 02 01 05 61 8b');

  const bad = (req: Parameters<typeof decodeReply>[0], frame: Uint8Array, re: RegExp) =>
    t.throws(() => decodeReply(req, frame), { name: 'ModbusError', code: 'EBADREPLY', message: re });
  const read8 = readDiscreteInputs(1, 0, 8);
  bad(read8, bytes('01 02 01 05 61 8c'), /CRC error/);
  bad(read8, withCrc([2, 2, 1, 5]), /reply from device 2/);
  bad(read8, withCrc([1, 1, 1, 5]), /reply to function 0x01/);
  bad(read8, withCrc([1, 2, 2, 5, 0]), /byte count 2, expected 1/);
  bad(read8, bytes('01 02'), /too short/);
  bad(writeSingleCoil(1, 3, true), withCrc([1, 5, 0, 3, 0, 0]), /echo 00 03 00 00 differs/);
  bad(writeMultipleCoils(1, 0, [true, false]), withCrc([1, 0x0f, 0, 0, 0, 3]), /echo start 0 quantity 3, expected 0 and 2/);
  t.equal(decodeReply(writeSingleCoil(1, 3, true), withCrc([1, 5, 0, 3, 0xff, 0])), undefined, 'the echo is the answer');

  // Exception: function | 0x80, code 02 (illegal data address). 01 82 02 → CRC C1 61.
  t.equal(hex(withCrc([1, 0x82, 2])), '01 82 02 c1 61');
  const e = t.throws(() => decodeReply(read8, bytes('01 82 02 c1 61'))) as unknown;
  t.ok(e instanceof ModbusException && e instanceof ModbusError);
  t.match(e, { code: 'EEXCEPTION', exceptionCode: 2, functionCode: 2, message: /device 1 refused function 0x02: exception 2 \(illegal data address\)/ });
  bad(read8, withCrc([1, 0x82, 2, 0]), /exception reply of 6 bytes/);
});

t.test('inter-frame silence: 3.5 characters of 11 bits, 1.75 ms above 19,200 baud', async (t) => {
  t.equal(interFrameMs(9600).toFixed(2), '4.01');
  t.equal(interFrameMs(2400).toFixed(2), '16.04');
  t.equal(interFrameMs(38_400), 1.75);
});
