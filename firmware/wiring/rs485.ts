// The serial options of a board's RS-485 line, for whatever drives devices
// on it (PTZ domes, Modbus I/O modules). Three kinds of transceiver:
// kernel-rts (the UART driver switches the driver-enable with RTS, through
// TIOCSRS485), gpio (the board wired driver-enable to a GPIO: the firmware
// raises it around each frame, through the serial line's direction hook)
// and none (an auto-direction transceiver, a USB adapter or a pty).
import { GpioChip, type LineRequest } from '../../drivers/gpio/index.js';
import type { DirectionHook, SerialLineOptions } from '../../drivers/serial/index.js';
import type { BoardProfile } from '../board/profile.js';
import type { Logger } from '../core/log.js';

type Rs485Line = BoardProfile['rs485'][number];

/** One GPIO request per line for the life of the process: the pin is owned, not requested per frame. */
const held = new Map<string, LineRequest | Error>();

/** The line's driver-enable GPIO as a direction hook; undefined (logged) when the GPIO cannot be had. */
export function directionHook(l: Rs485Line, log: Logger, open: (chip: string) => Pick<GpioChip, 'request' | 'close'> = (c) => GpioChip.open(c)): DirectionHook | undefined {
  const g = l.directionGpio;
  if (l.direction !== 'gpio' || !g) return undefined;
  let req = held.get(l.name);
  if (!req) {
    try {
      const chip = open(g.chip);
      try {
        // Low = receive: the bus is left to the other devices until we send.
        req = chip.request([{ offset: g.line, direction: 'output', value: false, activeLow: g.activeLow }], { consumer: `dvr-rs485-${l.name}` });
      } finally {
        chip.close();
      }
    } catch (e) {
      req = e as Error;
      log.error('RS-485 direction GPIO unavailable: frames on this line cannot be sent', { line: l.name, chip: g.chip, gpio: g.line, error: req.message });
    }
    held.set(l.name, req);
  }
  if (req instanceof Error) return undefined;
  const request = req;
  return (transmit) => request.setValue(g.line, transmit);
}

/** Serial options for devices on the board's RS-485 line `name` at `baudRate`; undefined when the board has no such line. */
export function rs485LineOptions(lines: readonly Rs485Line[], name: string, baudRate: number, log: Logger): SerialLineOptions | undefined {
  const l = lines.find((x) => x.name === name);
  if (!l) return undefined;
  const direction = directionHook(l, log);
  return { path: l.port, baudRate, rs485: l.direction === 'kernel-rts', ...(direction ? { direction } : {}) };
}

/** Releases the direction GPIOs (tests; the firmware keeps them for its life). */
export function releaseDirectionGpios(): void {
  for (const r of held.values()) if (!(r instanceof Error)) r.close();
  held.clear();
}
