// Modbus over serial line v1.02, 2.5.1.1: frames are separated by at least
// 3.5 character times of silence; above 19,200 baud a fixed 1.75 ms is
// recommended. A character is 11 bits (start, 8 data, parity or a second
// stop bit, stop); counting 11 also covers 8N1 lines (10 bits).

/** The silence a Modbus RTU device needs between frames at `baudRate`, in ms. */
export function interFrameMs(baudRate: number): number {
  if (baudRate > 19_200) return 1.75;
  return (3.5 * 11 * 1000) / baudRate;
}
