// ModbusClient on the real serial bus (drivers/serial) over a socat pty pair,
// against the module simulator: byte-exact requests, replies, exceptions,
// timeouts, and the simulator's own decoder against published frames.
import t, { type Test } from 'tap';
import { SerialBus, SerialLine } from '../../../drivers/serial/index.js';
import { ModbusClient, ModbusError, ModbusException } from '../../../firmware/modbus/index.js';
import { ModbusIoSim, simCrc } from '../../fixtures/modbus-io-sim.js';
import { ptyPair } from '../../fixtures/ptz-dome-sim.js';

async function setup(t: Test, address = 1) {
  const pair = await ptyPair();
  const sim = new ModbusIoSim({ port: pair.b, address: 1 });
  await sim.open();
  const line = new SerialLine({ path: pair.a, baudRate: 9600 });
  await line.open();
  const bus = new SerialBus({ line });
  const device = bus.device({ name: 'io', address });
  const client = new ModbusClient({ channel: device, address, timeoutMs: 100 });
  t.teardown(async () => {
    bus.close();
    await line.close();
    await sim.close();
    await pair.close();
  });
  return { sim, client, bus };
}

t.test('the simulator decodes the published relay-board frames', async (t) => {
  t.equal(simCrc(Buffer.from('010300 6b0003'.replace(/ /g, ''), 'hex')), 0x1774);
  const sim = new ModbusIoSim({ address: 1 });
  sim.handle(Buffer.from('01050000ff008c3a', 'hex')); // relay 1 on
  sim.handle(Buffer.from('010f0000000801ffbed5', 'hex')); // all on
  t.same(sim.coils(), new Array(8).fill(true));
  sim.handle(Buffer.from('0105000000 00cdca'.replace(/ /g, ''), 'hex')); // relay 1 off
  t.same(sim.coils()[0], false);
  sim.handle(Buffer.from('ff01000400 3f0044'.replace(/ /g, ''), 'hex')); // a Pelco-D frame on the same wires
  sim.handle(Buffer.from('010f0000000801 00fe95'.replace(/ /g, ''), 'hex')); // all off
  t.same(sim.coils(), new Array(8).fill(false));
  t.same(sim.log.map((r) => r.name), ['write-coil', 'write-coils', 'write-coil', 'write-coils']);
  t.ok(sim.stats.discarded >= 7, 'the PTZ frame was skipped');
});

t.test('reads and writes, byte for byte on the wire', async (t) => {
  const { sim, client } = await setup(t);
  sim.setInput(1, true);
  sim.setInput(8, true);
  t.same(await client.readDiscreteInputs(0, 8), [true, false, false, false, false, false, false, true]);
  t.equal(sim.log.at(-1)!.hex, '01 02 00 00 00 08 79 cc');
  await client.writeCoil(2, true);
  t.same(sim.coils(), [false, false, true, false, false, false, false, false]);
  await client.writeCoils(0, [true, true, false, false, true, false, false, true]);
  t.same(await client.readCoils(0, 8), [true, true, false, false, true, false, false, true]);
  t.same(sim.log.map((r) => r.name), ['read-inputs', 'write-coil', 'write-coils', 'read-coils']);
});

t.test('exceptions, silence and noise', async (t) => {
  const { sim, client } = await setup(t);
  await t.rejects(client.readDiscreteInputs(0, 16), { name: 'ModbusException', code: 'EEXCEPTION', exceptionCode: 2 });
  await t.rejects(client.writeCoil(8, true), ModbusException);
  sim.replyNoise = [0x01, 0x02, 0x03, 0xff, 0x01];
  t.same(await client.readDiscreteInputs(0, 2), [false, false], 'noise before the reply skipped');
  sim.silent = true;
  const e = await client.readDiscreteInputs(0, 8).catch((x: unknown) => x);
  t.ok(e instanceof ModbusError);
  t.match(e, { code: 'ETIMEDOUT', message: 'device 1, read discrete inputs 0..7: no reply within 100 ms' });
  sim.silent = false;
  t.same(await client.readDiscreteInputs(0, 1), [false], 'answers again');
});

t.test('a device at another address never answers for this one', async (t) => {
  const { client, bus } = await setup(t, 2);
  await t.rejects(client.readDiscreteInputs(0, 8), { code: 'ETIMEDOUT' });
  bus.close();
  await t.rejects(client.readDiscreteInputs(0, 8), { code: 'ECLOSED', message: /bus is closed/ });
});
