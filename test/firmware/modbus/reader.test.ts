// ReplyReader: the reply to one request out of a byte stream with noise,
// split reads, truncated frames and other devices' answers.
import t from 'tap';
import { ReplyReader, readDiscreteInputs, withCrc, writeSingleCoil } from '../../../firmware/modbus/index.js';

const reply = withCrc([1, 2, 1, 0x05]); // 01 02 01 05 61 8B: inputs 1 and 3 on
const inputs13 = [true, false, true, false, false, false, false, false];

t.test('a reply split across reads', async (t) => {
  const r = new ReplyReader(readDiscreteInputs(1, 0, 8));
  for (let i = 0; i < reply.length - 1; i++) t.equal(r.push(reply.subarray(i, i + 1)), undefined);
  t.same(r.push(reply.subarray(reply.length - 1)), { ok: true, value: inputs13 });
});

t.test('noise, a truncated frame and another device before the reply', async (t) => {
  const r = new ReplyReader(readDiscreteInputs(1, 0, 8));
  const other = withCrc([2, 2, 1, 0xff]); // device 2 answering late
  const stream = Buffer.concat([Buffer.from([0x00, 0xff, 0x01]), reply.subarray(0, 4), other, reply]);
  t.same(r.push(stream), { ok: true, value: inputs13 });
  t.equal(r.discarded, 3 + 4 + other.length);
});

t.test('a frame whose byte count would swallow the real reply does not hide it', async (t) => {
  // 01 02 FA ...: "250 data bytes follow", a garbage header; the real reply comes right after.
  const r = new ReplyReader(readDiscreteInputs(1, 0, 8));
  t.equal(r.push(Buffer.from([0x01, 0x02, 0xfa])), undefined);
  t.same(r.push(reply), { ok: true, value: inputs13 });
});

t.test('a CRC-valid frame that does not answer the request is a typed error', async (t) => {
  const r = new ReplyReader(readDiscreteInputs(1, 0, 8));
  const out = r.push(withCrc([1, 2, 2, 0x05, 0x00]));
  t.match(out, { ok: false, error: { name: 'ModbusError', code: 'EBADREPLY', message: /byte count 2, expected 1/ } });
  const w = new ReplyReader(writeSingleCoil(1, 0, true));
  t.match(w.push(withCrc([1, 0x85, 4])), { ok: false, error: { name: 'ModbusException', exceptionCode: 4, message: /server device failure/ } });
});

t.test('garbage alone: nothing, and the buffer stays within one frame', async (t) => {
  const r = new ReplyReader(readDiscreteInputs(1, 0, 8));
  for (let i = 0; i < 100; i++) t.equal(r.push(Buffer.from([1, 2, 0xff, 1, 2, 3, 4, 5, 6, 7])), undefined);
  t.ok(r.buffered <= 260, `buffered ${r.buffered}`);
});
