// SerialLine over a socat pty pair, and the kernel RS-485 ioctl, which a pty
// refuses with ENOTTY: that must be reported, and the line must keep working.
import t from 'tap';
import { SerialPort } from 'serialport';
import { SysError } from '../../../drivers/libc/index.js';
import {
  SERIAL_RS485_SIZE,
  SerialLine,
  TIOCSRS485,
  decodeRs485,
  encodeRs485,
  getRs485,
  setRs485OnPath,
} from '../../../drivers/serial/index.js';
import { ptyPair, type PtyPair } from '../../fixtures/ptz-dome-sim.js';

let pair: PtyPair;
t.before(async () => {
  pair = await ptyPair();
});
t.teardown(() => pair.close());

/** The far end of the cable, collecting what arrives. */
async function farEnd(path: string): Promise<{ port: SerialPort; received: () => Buffer; close: () => Promise<void> }> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  return {
    port,
    received: () => Buffer.concat(chunks),
    close: () => new Promise<void>((res) => port.close(() => res())),
  };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

t.test('struct serial_rs485 layout', async (t) => {
  t.equal(TIOCSRS485, 0x542f);
  t.equal(SERIAL_RS485_SIZE, 32);
  // Defaults: ENABLED (1) | RTS_ON_SEND (2) = 3, no delays, padding zero.
  t.same(encodeRs485(), Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.alloc(28)]));
  // Everything: 1 | 2 | 4 (RTS_AFTER_SEND) | 16 (RX_DURING_TX) = 0x17; delays 1 and 300 (0x12C) little-endian.
  const all = encodeRs485({ rtsOnSend: true, rtsAfterSend: true, rxDuringTx: true, delayRtsBeforeSendMs: 1, delayRtsAfterSendMs: 300 });
  t.same(all.subarray(0, 12), Buffer.from([0x17, 0, 0, 0, 1, 0, 0, 0, 0x2c, 0x01, 0, 0]));
  t.same(decodeRs485(all), {
    enabled: true,
    rtsOnSend: true,
    rtsAfterSend: true,
    rxDuringTx: true,
    delayRtsBeforeSendMs: 1,
    delayRtsAfterSendMs: 300,
  });
  // Active-low driver enable: RTS low while sending.
  t.equal(encodeRs485({ rtsOnSend: false, rtsAfterSend: true })[0], 0x05);
  t.equal(encodeRs485({ enabled: false })[0], 0x02);
  t.throws(() => encodeRs485({ delayRtsAfterSendMs: -1 }), /delay after send/);
});

t.test('TIOCSRS485 / TIOCGRS485 on a pty: ENOTTY as a SysError', async (t) => {
  const err = t.throws(() => setRs485OnPath(pair.a, {})) as unknown;
  t.ok(err instanceof SysError);
  t.equal((err as SysError).code, 'ENOTTY');
  t.match((err as SysError).message, /ioctl\(TIOCSRS485\) on .*: ENOTTY/);
  t.throws(() => getRs485(-1), { code: 'EBADF' });
});

t.test('a line asked for RS-485 on a pty: reports ENOTTY and still carries bytes', async (t) => {
  const far = await farEnd(pair.b);
  t.teardown(far.close);
  const line = new SerialLine({ path: pair.a, baudRate: 9600, rs485: { rtsOnSend: true } });
  await line.open();
  t.teardown(() => line.close());
  const rs = line.rs485;
  t.equal(rs.requested, true);
  t.equal(rs.enabled, false);
  t.equal(rs.code, 'ENOTTY');
  t.match(rs.error, /TIOCSRS485.*ENOTTY/);
  await line.write(Buffer.from([0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01]));
  await until(() => far.received().length === 7);
  t.same(far.received(), Buffer.from('ff010000000001', 'hex'));
});

t.test('without RS-485: nothing requested, nothing reported', async (t) => {
  const line = new SerialLine({ path: pair.a, baudRate: 2400, parity: 'even', dataBits: 8, stopBits: 1 });
  await line.open();
  t.teardown(() => line.close());
  t.same(line.rs485, { requested: false, enabled: false });
});

t.test('direction hook brackets every write; data flows both ways; baud changes', async (t) => {
  const far = await farEnd(pair.b);
  t.teardown(far.close);
  const events: string[] = [];
  const line = new SerialLine({
    path: pair.a,
    baudRate: 9600,
    direction: (tx) => {
      events.push(tx ? 'tx' : 'rx');
    },
  });
  await line.open();
  t.teardown(() => line.close());
  const got: Buffer[] = [];
  line.onData((c) => got.push(c));
  await line.write(Buffer.from([1, 2, 3]));
  await line.write(Buffer.from([4]));
  t.same(events, ['tx', 'rx', 'tx', 'rx']);
  await until(() => far.received().length === 4);
  far.port.write(Buffer.from([9, 8, 7]));
  await until(() => Buffer.concat(got).length === 3);
  t.same(Buffer.concat(got), Buffer.from([9, 8, 7]));
  await line.setBaudRate(4800);
  t.equal(line.baudRate, 4800);
});

t.test('errors are clear and nothing crashes', async (t) => {
  const missing = new SerialLine({ path: `${pair.a}-missing`, baudRate: 9600 });
  await t.rejects(missing.open(), /No such file|ENOENT|cannot open/i);
  await t.rejects(missing.write(Buffer.from([1])), /is not open/);
  await missing.close(); // harmless
  const line = new SerialLine({ path: pair.a, baudRate: 9600 });
  await line.open();
  await t.rejects(line.open(), /already open/);
  await line.close();
  await line.close();
});
