import { KernelAlarmGpio } from '../alarms/kernel-gpio.js';
import { AlarmService } from '../alarms/service.js';
import type { Wiring } from './context.js';

/**
 * Alarm inputs, relays and the buzzer, when the board has any of those
 * lines; with MQTT, each input is a Home Assistant binary sensor, each relay
 * a switch, and "armed" a switch that arms or disarms every input by hand.
 */
export function wireAlarms(w: Wiring): AlarmService | undefined {
  const lines = w.board.gpio;
  if (lines.alarmInputs.length === 0 && lines.relays.length === 0 && lines.buzzer === null) return undefined;
  const config = () => w.config.get();
  const alarms = new AlarmService({
    bus: w.bus,
    clock: w.clock,
    log: w.log.child('alarms'),
    gpio: new KernelAlarmGpio(),
    board: () => w.board.gpio,
    config: () => config().alarms,
    timezone: () => config().system.timezone,
  });
  w.supervisor.add(alarms);
  const mqtt = w.mqtt;
  if (!mqtt) return alarms;
  for (const line of lines.alarmInputs) {
    const name = config().alarms.inputs.find((i) => i.input === line.name)?.name;
    mqtt.registerEntity({ kind: 'alarmInput', input: line.name, ...(name ? { name } : {}) });
  }
  for (const line of lines.relays) mqtt.registerEntity({ kind: 'relay', relay: line.name });
  if (lines.alarmInputs.length > 0) mqtt.registerEntity({ kind: 'armed' });
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
