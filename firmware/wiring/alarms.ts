import { CompositeAlarmGpio } from '../alarms/composite-gpio.js';
import type { ModuleConfig } from '../alarms/config.js';
import { KernelAlarmGpio } from '../alarms/kernel-gpio.js';
import { ModbusAlarmGpio, moduleBoardLines } from '../alarms/modbus-gpio.js';
import { ModbusIoService } from '../alarms/modbus-io.js';
import { AlarmService } from '../alarms/service.js';
import { interFrameMs } from '../modbus/index.js';
import type { Wiring } from './context.js';
import { rs485LineOptions } from './rs485.js';

/**
 * The silence after each frame on an RS-485 line: the bus's usual 5 ms, or
 * more where a Modbus module on it runs slow enough to need 3.5 character
 * times beyond that (below 9,600 baud).
 */
export function rs485GapMs(modules: readonly ModuleConfig[], line: string): number | undefined {
  const on = modules.filter((m) => m.bus === line);
  if (on.length === 0) return undefined;
  return Math.max(5, ...on.map((m) => Math.ceil(interFrameMs(m.baudRate))));
}

/**
 * Alarm inputs, relays and the buzzer, when the board has any of those
 * lines or the config has Modbus I/O modules (their lines, `<id>.in1..N` and
 * `<id>.out1..N`, join the board's); with MQTT, each input is a Home
 * Assistant binary sensor, each relay a switch, each module a connectivity
 * binary sensor, and "armed" a switch that arms or disarms every input by
 * hand.
 */
export function wireAlarms(w: Wiring): AlarmService | undefined {
  const config = () => w.config.get();
  // The board's lines and the configured modules' lines, read again at each start of the service.
  const lines = () => {
    const gpio = w.board.gpio;
    const modules = moduleBoardLines(config().alarms.modules);
    return { ...gpio, alarmInputs: [...gpio.alarmInputs, ...modules.alarmInputs], relays: [...gpio.relays, ...modules.relays] };
  };
  const atStart = lines();
  if (atStart.alarmInputs.length === 0 && atStart.relays.length === 0 && atStart.buzzer === null) return undefined;
  const log = w.log.child('alarms');
  const modbus = new ModbusIoService({
    bus: w.bus,
    clock: w.clock,
    log,
    lines: w.rs485Lines,
    line: (name, baudRate) => rs485LineOptions(w.board.rs485, name, baudRate, log),
    modules: () => config().alarms.modules,
  });
  const alarms = new AlarmService({
    bus: w.bus,
    clock: w.clock,
    log,
    gpio: new CompositeAlarmGpio(new KernelAlarmGpio(), new ModbusAlarmGpio(modbus)),
    board: lines,
    config: () => config().alarms,
    timezone: () => config().system.timezone,
  });
  w.supervisor.add(alarms);
  const mqtt = w.mqtt;
  if (!mqtt) return alarms;
  for (const line of atStart.alarmInputs) {
    const name = config().alarms.inputs.find((i) => i.input === line.name)?.name;
    mqtt.registerEntity({ kind: 'alarmInput', input: line.name, ...(name ? { name } : {}) });
  }
  for (const line of atStart.relays) mqtt.registerEntity({ kind: 'relay', relay: line.name });
  for (const m of config().alarms.modules) mqtt.registerEntity({ kind: 'alarmModule', module: m.id });
  if (atStart.alarmInputs.length > 0) mqtt.registerEntity({ kind: 'armed' });
  mqtt.handleCommand('relay', async ({ relay, on }) => {
    if (!alarms.relays().some((r) => r.relay === relay)) throw new Error(`no relay "${relay}" (known: ${alarms.relays().map((r) => r.relay).join(', ') || 'none'})`);
    await alarms.relay(relay, on);
    return { relay, on };
  });
  mqtt.handleCommand('arm', ({ armed }) => {
    for (const i of alarms.inputs()) alarms.arm(i.input, armed ? 'armed' : 'disarmed');
    return { armed };
  });
  // Relays switched by linkage rules or by hand show in Home Assistant too.
  w.bus.on('relayState', (e) => mqtt.reportRelay(e.relay, e.on));
  return alarms;
}
