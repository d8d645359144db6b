// The fuzz properties of scripts/bench/fuzz-modbus.ts with a few thousand
// cases (the script runs ≥100,000): bad bytes give a typed error or are
// skipped, never another exception.
import fc from 'fast-check';
import t from 'tap';
import { modbusProperties } from '../../../scripts/bench/fuzz-modbus.js';

const runs = Number(process.env.FUZZ_RUNS ?? 3000);

for (const { name, property } of modbusProperties) {
  t.test(name, async (t) => {
    fc.assert(property, { numRuns: runs });
    t.pass(`${runs} cases`);
  });
}

t.test('io-sim: arbitrary bytes never break the simulator, and it only obeys CRC-valid frames', async (t) => {
  const { ModbusIoSim, simCrc } = await import('../../fixtures/modbus-io-sim.js');
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 6 }), (chunks) => {
      const sim = new ModbusIoSim({ address: 1 });
      for (const c of chunks) sim.handle(c);
      for (const r of sim.log) {
        const b = Buffer.from(r.hex.replace(/ /g, ''), 'hex');
        const crc = simCrc(b, 0, b.length - 2);
        if (b[b.length - 2] !== (crc & 0xff) || b[b.length - 1] !== crc >> 8) throw new Error(`took a frame with a bad CRC: ${r.hex}`);
      }
      if (sim.coils().length !== 8) throw new Error('coil table changed size');
    }),
    { numRuns: runs },
  );
  t.pass(`${runs} cases`);
});
