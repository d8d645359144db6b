import t from 'tap';
import { StreamHealth } from '../../../../firmware/media/rtp/health.js';

t.test('fps, bitrate and GOP from frame times; silence reads 0 fps', async (t) => {
  const h = new StreamHealth(5000);
  for (let i = 0; i < 250; i++) {
    // Bursty arrival (every 5th frame late), steady capture times.
    h.onFrame(1000 + i * 40, 1000 + i * 40 + (i % 5 === 0 ? 150 : 0), 5000, i % 50 === 0);
  }
  h.lostPackets = 1;
  h.receivedPackets = 99;
  const s = h.snapshot(1000 + 250 * 40);
  t.equal(Math.round(s.fps), 25);
  t.equal(Math.round(s.bitsPerSecond), 25 * 5000 * 8);
  t.equal(s.gop, 50);
  t.equal(s.keyframes, 5);
  t.equal(s.lossRatio, 0.01);
  t.equal(h.snapshot(1000 + 250 * 40 + 6000).fps, 0, 'stale after a silent window');
});
