// AlarmGpio on the GPIO character device (drivers/gpio): one line request per
// chip for the inputs (both edges, kernel debounce) and one for the outputs;
// edge events come from the driver's event thread.
import { EventWatcher, GpioChip, type LineSettings } from '../../drivers/gpio/index.js';
import type { AlarmGpio, InputGroup, InputHandlers, OutputGroup, PortInputLine, PortLine } from './port.js';

const CONSUMER = 'dvr-alarms';

export class KernelAlarmGpio implements AlarmGpio {
  private watcher?: EventWatcher;

  async openInputs(chip: string, lines: readonly PortInputLine[], handlers: InputHandlers): Promise<InputGroup> {
    const settings: LineSettings[] = lines.map((l) => ({
      offset: l.line,
      direction: 'input',
      edge: 'both',
      activeLow: l.activeLow,
      debounceUs: l.debounceUs,
      bias: l.pullUp ? 'pull-up' : 'as-is',
    }));
    const c = GpioChip.open(chip);
    let request;
    let kernelDebounce: boolean;
    try {
      request = c.request(settings, { consumer: CONSUMER });
      // The kernel reports the period it applies; a chip that cannot debounce
      // is debounced by gpiolib in software, so this is normally all of them.
      kernelDebounce = lines.every((l) => l.debounceUs === 0 || c.lineInfo(l.line).debounceUs === l.debounceUs);
    } finally {
      c.close();
    }
    const req = request;
    const names = new Map(lines.map((l) => [l.line, l.name]));
    this.watcher ??= new EventWatcher();
    let stop: () => Promise<void>;
    try {
      stop = await this.watcher.watch(req, {
        events: (events) => {
          for (const e of events) {
            const name = names.get(e.offset);
            if (name !== undefined) handlers.edge(name, { value: e.edge === 'rising', timestampNs: e.timestampNs, seqno: e.seqno, lineSeqno: e.lineSeqno });
          }
        },
        error: (err) => handlers.error(err),
      });
    } catch (err) {
      req.close();
      throw err;
    }
    return {
      kernelDebounce,
      values: () => {
        const v = req.getValues();
        return new Map(lines.map((l) => [l.name, v.get(l.line)!]));
      },
      close: async () => {
        await stop();
        req.close();
      },
    };
  }

  async openOutputs(chip: string, lines: readonly (PortLine & { initial: boolean })[]): Promise<OutputGroup> {
    const c = GpioChip.open(chip);
    let req;
    try {
      req = c.request(
        lines.map((l) => ({ offset: l.line, direction: 'output', activeLow: l.activeLow, value: l.initial })),
        { consumer: CONSUMER },
      );
    } finally {
      c.close();
    }
    const request = req;
    const offsets = new Map(lines.map((l) => [l.name, l.line]));
    const offsetOf = (name: string) => {
      const o = offsets.get(name);
      if (o === undefined) throw new RangeError(`no output line "${name}" on ${chip}`);
      return o;
    };
    return {
      set: (name, value) => request.setValue(offsetOf(name), value),
      get: (name) => request.getValue(offsetOf(name)),
      close: () => request.close(),
    };
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
