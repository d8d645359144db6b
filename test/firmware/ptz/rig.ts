// A fresh cable for the PTZ tests: simulated dome(s) on one end of a socat
// pty pair, the firmware's serial line and bus on the other, torn down with
// the test.
import type { Test } from 'tap';
import { SerialBus, SerialLine } from '../../../drivers/serial/index.js';
import { PelcoController, type PelcoProtocol } from '../../../firmware/ptz/index.js';
import { PtzDomeSim, ptyPair, type PtzDomeSimOptions } from '../../fixtures/ptz-dome-sim.js';

export interface Rig {
  sim: PtzDomeSim;
  line: SerialLine;
  bus: SerialBus;
  dome(address: number, protocol?: PelcoProtocol, queryTimeoutMs?: number): PelcoController;
}

export async function rig(t: Test, sim: PtzDomeSimOptions = {}): Promise<Rig> {
  const pair = await ptyPair();
  const dome = new PtzDomeSim({ port: pair.b, ...sim });
  await dome.open();
  const line = new SerialLine({ path: pair.a, baudRate: 9600 });
  await line.open();
  const bus = new SerialBus({ line, gapMs: 2 });
  t.teardown(async () => {
    bus.close();
    await line.close();
    await dome.close();
    await pair.close();
  });
  return {
    sim: dome,
    line,
    bus,
    dome: (address, protocol = 'd', queryTimeoutMs = 1000) => new PelcoController({ protocol, address, device: bus.device({ name: `dome ${address}` }), queryTimeoutMs }),
  };
}
