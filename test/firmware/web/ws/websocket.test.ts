// The WebSocket frame reader reads bytes from the network: fuzzed with
// fast-check, and checked against frames built by the test's own client code.
import t from 'tap';
import fc from 'fast-check';
import { FrameReader, frameHeader, WebSocketProtocolError } from '../../../../firmware/web/ws/websocket.js';
import { maskedFrame } from './client.js';

t.test('any bytes: frames or a WebSocketProtocolError, never anything else', async (t) => {
  let errors = 0;
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
      const r = new FrameReader(1024);
      try {
        for (const c of chunks) for (const f of r.push(Buffer.from(c))) if (f.payload.length > 1024) throw new Error('over the limit');
      } catch (e) {
        if (!(e instanceof WebSocketProtocolError)) throw e;
        errors++;
        if (![1002, 1009].includes(e.code)) throw new Error(`close code ${e.code}`);
      }
    }),
    { numRuns: 3000 },
  );
  t.ok(errors > 0, `random bytes were refused as protocol errors (${errors} of 3000 runs)`);
});

t.test('masked frames cut anywhere come back whole, in order', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom(1, 2, 9), payload: fc.uint8Array({ maxLength: 2000 }) }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, cuts) => {
        const msgs = frames.map((f) => ({ op: f.op, payload: Buffer.from(f.op === 9 ? f.payload.slice(0, 125) : f.payload) }));
        const wire = Buffer.concat(msgs.map((m) => maskedFrame(m.op, m.payload)));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const r = new FrameReader(4096);
        const got = [];
        let at = 0;
        for (const p of [...points, wire.length]) {
          got.push(...r.push(wire.subarray(at, p)));
          at = p;
        }
        return got.length === msgs.length && got.every((g, i) => g.opcode === msgs[i]!.op && g.fin && g.payload.equals(msgs[i]!.payload));
      },
    ),
    { numRuns: 500 },
  );
  t.pass('500 runs');
});

t.test('limits hold before anything is buffered', async (t) => {
  const huge = Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]); // claims 4 GiB, masked
  t.throws(() => new FrameReader(65536).push(huge), { code: 1009 }, 'a 4 GiB frame is refused from its header');
  t.throws(() => new FrameReader(65536).push(Buffer.from([0x89, 0xfe, 0, 200])), { code: 1002 }, 'a ping over 125 bytes is refused');
  t.throws(() => new FrameReader(65536).push(Buffer.from([0x09, 0x80, 1, 2, 3, 4])), { code: 1002 }, 'a fragmented ping is refused');
  t.throws(() => new FrameReader(65536).push(Buffer.from([0xc2, 0x80, 1, 2, 3, 4])), { code: 1002 }, 'reserved bits without an extension are refused');
  t.throws(() => new FrameReader(65536).push(Buffer.from([0x83, 0x80, 1, 2, 3, 4])), { code: 1002 }, 'an unknown opcode is refused');
});

t.test('server frame headers use the shortest length form', async (t) => {
  t.same([...frameHeader(2, 125)], [0x82, 125]);
  t.same([...frameHeader(2, 126)], [0x82, 126, 0, 126]);
  t.same([...frameHeader(1, 65535)], [0x81, 126, 0xff, 0xff]);
  t.same([...frameHeader(2, 65536)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
});
