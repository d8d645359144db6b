// The uAPI v2 structs byte by byte: what the binding writes for the kernel and
// how it reads what the kernel writes back. Offsets are the committed layout
// (checked against linux/gpio.h by layouts.test.ts).
import t from 'tap';
import fc from 'fast-check';
import {
  decodeChipInfo,
  decodeEvents,
  decodeLineInfo,
  decodeValues,
  encodeEvent,
  encodeLineConfig,
  encodeLineRequest,
  encodeValues,
  EVENT_SIZE,
  GpioEventError,
  LAYOUT,
  lineFlags,
  type LineEvent,
} from '../../../drivers/gpio/index.js';
import { encodeLineInfoQuery, requestFd } from '../../../drivers/gpio/struct.js';

const C = LAYOUT.constants;

t.test('gpiochip_info', async (t) => {
  const buf = Buffer.alloc(68);
  buf.write('gpiochip3', 0);
  buf.write('gpio-sim.0-node0', 32);
  buf.writeUInt32LE(8, 64);
  t.same(decodeChipInfo(buf), { name: 'gpiochip3', label: 'gpio-sim.0-node0', lines: 8 });
  // A name filling all 32 bytes (no NUL) is read up to the field's end, not into the next.
  buf.fill(0x41, 0, 32);
  t.equal(decodeChipInfo(buf).name, 'A'.repeat(32));
});

t.test('line flags', async (t) => {
  t.equal(lineFlags({ offset: 0, direction: 'input', edge: 'both', activeLow: true, bias: 'pull-up' }), BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_RISING | C.GPIO_V2_LINE_FLAG_EDGE_FALLING | C.GPIO_V2_LINE_FLAG_ACTIVE_LOW | C.GPIO_V2_LINE_FLAG_BIAS_PULL_UP));
  t.equal(lineFlags({ offset: 0, direction: 'input', edge: 'falling', bias: 'pull-down', realtime: true }), BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_FALLING | C.GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN | C.GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME));
  t.equal(lineFlags({ offset: 0, direction: 'input', edge: 'rising', bias: 'disabled' }), BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_RISING | C.GPIO_V2_LINE_FLAG_BIAS_DISABLED));
  t.equal(lineFlags({ offset: 0, direction: 'output', drive: 'open-drain' }), BigInt(C.GPIO_V2_LINE_FLAG_OUTPUT | C.GPIO_V2_LINE_FLAG_OPEN_DRAIN));
  t.equal(lineFlags({ offset: 0, direction: 'output', drive: 'open-source' }), BigInt(C.GPIO_V2_LINE_FLAG_OUTPUT | C.GPIO_V2_LINE_FLAG_OPEN_SOURCE));
  t.equal(lineFlags({ offset: 0, direction: 'input' }), BigInt(C.GPIO_V2_LINE_FLAG_INPUT));
});

/** The attributes of an encoded gpio_v2_line_config. */
function attrs(buf: Buffer, at = 0) {
  const n = buf.readUInt32LE(at + 8);
  return Array.from({ length: n }, (_, i) => {
    const base = at + 32 + i * 24;
    const id = buf.readUInt32LE(base);
    return { id, value: id === C.GPIO_V2_LINE_ATTR_ID_DEBOUNCE ? BigInt(buf.readUInt32LE(base + 8)) : buf.readBigUInt64LE(base + 8), mask: buf.readBigUInt64LE(base + 16) };
  });
}

t.test('a request of inputs and outputs: common flags, attributes for the rest', async (t) => {
  const lines = [
    { offset: 4, direction: 'input' as const, edge: 'both' as const, debounceUs: 5000 },
    { offset: 5, direction: 'input' as const, edge: 'both' as const, debounceUs: 5000 },
    { offset: 6, direction: 'input' as const, edge: 'both' as const, activeLow: true },
    { offset: 9, direction: 'output' as const, value: true },
    { offset: 7, direction: 'output' as const, value: false },
  ];
  const buf = encodeLineRequest(lines, 'dvr-alarms', 64);
  t.equal(buf.length, 592);
  t.same([0, 1, 2, 3, 4].map((i) => buf.readUInt32LE(i * 4)), [4, 5, 6, 9, 7], 'offsets in request order');
  t.equal(buf.toString('utf8', 256, 266), 'dvr-alarms');
  t.equal(buf[266], 0, 'consumer NUL-terminated');
  t.equal(buf.readUInt32LE(560), 5, 'num_lines');
  t.equal(buf.readUInt32LE(564), 64, 'event_buffer_size');
  const both = BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_RISING | C.GPIO_V2_LINE_FLAG_EDGE_FALLING);
  t.equal(buf.readBigUInt64LE(288), both, 'the most common flags are the default');
  t.same(attrs(buf, 288), [
    { id: C.GPIO_V2_LINE_ATTR_ID_FLAGS, value: both | BigInt(C.GPIO_V2_LINE_FLAG_ACTIVE_LOW), mask: 0b00100n },
    { id: C.GPIO_V2_LINE_ATTR_ID_FLAGS, value: BigInt(C.GPIO_V2_LINE_FLAG_OUTPUT), mask: 0b11000n },
    { id: C.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, value: 0b01000n, mask: 0b11000n },
    { id: C.GPIO_V2_LINE_ATTR_ID_DEBOUNCE, value: 5000n, mask: 0b00011n },
  ]);
  t.equal(requestFd(buf), 0);
  buf.writeInt32LE(17, 588);
  t.equal(requestFd(buf), 17, 'the fd the kernel writes back');
});

t.test('bad requests are refused before any ioctl', async (t) => {
  t.throws(() => encodeLineRequest([], 'x'), RangeError);
  t.throws(() => encodeLineRequest(Array.from({ length: 65 }, (_, i) => ({ offset: i, direction: 'input' as const })), 'x'), /1 to 64 lines/);
  t.throws(() => encodeLineRequest([{ offset: 1, direction: 'input' }, { offset: 1, direction: 'input' }], 'x'), /listed twice/);
  t.throws(() => encodeLineRequest([{ offset: -1, direction: 'input' }], 'x'), /bad line offset/);
  t.throws(() => encodeLineRequest([{ offset: 1, direction: 'input' }], 'c'.repeat(32)), /longer than 31 bytes/);
  t.throws(() => encodeLineConfig([{ offset: 1, direction: 'input', debounceUs: -5 }]), /debounce/);
  // Eleven distinct debounce periods need eleven attributes; the kernel takes ten.
  const many = Array.from({ length: 11 }, (_, i) => ({ offset: i, direction: 'input' as const, debounceUs: 1000 + i }));
  t.throws(() => encodeLineConfig(many), /at most 10/);
});

t.test('line info', async (t) => {
  const q = encodeLineInfoQuery(6);
  t.equal(q.length, 256);
  t.equal(q.readUInt32LE(64), 6);
  const buf = Buffer.alloc(256);
  buf.write('in3', 0);
  buf.write('dvr-alarms', 32);
  buf.writeUInt32LE(6, 64);
  buf.writeUInt32LE(1, 68);
  buf.writeBigUInt64LE(BigInt(C.GPIO_V2_LINE_FLAG_USED | C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_ACTIVE_LOW | C.GPIO_V2_LINE_FLAG_EDGE_RISING | C.GPIO_V2_LINE_FLAG_EDGE_FALLING | C.GPIO_V2_LINE_FLAG_BIAS_PULL_UP), 72);
  buf.writeUInt32LE(C.GPIO_V2_LINE_ATTR_ID_DEBOUNCE, 80);
  buf.writeUInt32LE(20000, 88);
  const info = decodeLineInfo(buf);
  t.match(info, { offset: 6, name: 'in3', consumer: 'dvr-alarms', used: true, direction: 'input', activeLow: true, edge: 'both', bias: 'pull-up', drive: 'push-pull', realtime: false, debounceUs: 20000 });
  buf.writeBigUInt64LE(BigInt(C.GPIO_V2_LINE_FLAG_OUTPUT | C.GPIO_V2_LINE_FLAG_OPEN_DRAIN | C.GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN), 72);
  buf.writeUInt32LE(0, 68);
  t.match(decodeLineInfo(buf), { used: false, direction: 'output', drive: 'open-drain', bias: 'pull-down', edge: 'none', debounceUs: 0 });
  buf.writeBigUInt64LE(BigInt(C.GPIO_V2_LINE_FLAG_OUTPUT | C.GPIO_V2_LINE_FLAG_OPEN_SOURCE | C.GPIO_V2_LINE_FLAG_BIAS_DISABLED | C.GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME), 72);
  t.match(decodeLineInfo(buf), { drive: 'open-source', bias: 'disabled', realtime: true });
  buf.writeBigUInt64LE(BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_FALLING), 72);
  t.match(decodeLineInfo(buf), { edge: 'falling', bias: 'as-is' });
  buf.writeBigUInt64LE(BigInt(C.GPIO_V2_LINE_FLAG_INPUT | C.GPIO_V2_LINE_FLAG_EDGE_RISING), 72);
  t.match(decodeLineInfo(buf), { edge: 'rising' });
  // A num_attrs beyond the array is clamped, never read past the struct.
  buf.writeUInt32LE(0xffffffff, 68);
  t.doesNotThrow(() => decodeLineInfo(buf));
});

t.test('line values', async (t) => {
  const buf = encodeValues(new Map([[0, true], [2, false], [5, true]]));
  t.equal(buf.readBigUInt64LE(0), 0b100001n, 'bits');
  t.equal(buf.readBigUInt64LE(8), 0b100101n, 'mask');
  t.equal(decodeValues(buf), 0b100001n);
  t.throws(() => encodeValues(new Map([[64, true]])), /bad line index/);
});

t.test('line events: what the kernel writes', async (t) => {
  const e: LineEvent = { timestampNs: 123_456_789_012n, edge: 'falling', offset: 3, seqno: 7, lineSeqno: 2 };
  const buf = encodeEvent(e);
  t.equal(buf.length, EVENT_SIZE);
  t.equal(buf.readUInt32LE(8), C.GPIO_V2_LINE_EVENT_FALLING_EDGE);
  t.same(decodeEvents(Buffer.concat([buf, encodeEvent({ ...e, edge: 'rising', seqno: 8 })])), [e, { ...e, edge: 'rising', seqno: 8 }]);
  t.same(decodeEvents(Buffer.alloc(96), 0), [], 'a read of 0 bytes is no event');
  t.throws(() => decodeEvents(Buffer.alloc(50)), GpioEventError, 'a partial record is an error');
  const bad = Buffer.from(buf);
  bad.writeUInt32LE(9, 8);
  t.throws(() => decodeEvents(bad), /unknown line event id 9/);
});

t.test('fuzz: any bytes decode to whole events or a GpioEventError, nothing else', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 * 5 + 7 }), (bytes) => {
      const buf = Buffer.from(bytes);
      try {
        const events = decodeEvents(buf);
        if (buf.length % 48 !== 0) return false;
        return events.length === buf.length / 48 && events.every((e) => e.edge === 'rising' || e.edge === 'falling');
      } catch (err) {
        return err instanceof GpioEventError;
      }
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          timestampNs: fc.bigUintN(64),
          edge: fc.constantFrom('rising' as const, 'falling' as const),
          offset: fc.nat(0xffffffff),
          seqno: fc.nat(0xffffffff),
          lineSeqno: fc.nat(0xffffffff),
        }),
        { maxLength: 16 },
      ),
      (events) => {
        const decoded = decodeEvents(Buffer.concat([Buffer.alloc(0), ...events.map(encodeEvent)]));
        t.same(decoded, events);
        return decoded.length === events.length;
      },
    ),
    { numRuns: 200 },
  );
  t.pass('properties held');
});
