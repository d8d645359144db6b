import t from 'tap';
import type { RtpPacket } from '../../../../firmware/media/rtp/packet.js';
import { ReorderBuffer, seqDiff } from '../../../../firmware/media/rtp/reorder.js';

const p = (sequence: number): RtpPacket => ({ payloadType: 96, marker: false, sequence, timestamp: 0, ssrc: 1, csrc: [], payload: new Uint8Array(1) });
const seqs = (r: { packet: RtpPacket }[]): number[] => r.map((x) => x.packet.sequence);

t.test('sequence arithmetic wraps', async (t) => {
  t.equal(seqDiff(65535, 0), 1);
  t.equal(seqDiff(0, 65535), -1);
  t.equal(seqDiff(10, 20), 10);
});

t.test('reordered packets come out in order across the wrap', async (t) => {
  const rb = new ReorderBuffer(16, 100);
  t.same(seqs(rb.push(p(65534), 0)), [65534]);
  t.same(seqs(rb.push(p(0), 1)), [], 'held: 65535 missing');
  t.same(seqs(rb.push(p(65535), 2)), [65535, 0]);
  t.same(rb.stats, { lost: 0, late: 0, duplicates: 0, reordered: 1 });
});

t.test('a gap is declared lost after the delay or when full', async (t) => {
  const rb = new ReorderBuffer(4, 100);
  rb.push(p(1), 0);
  t.same(seqs(rb.push(p(3), 10)), []);
  t.same(seqs(rb.poll(50)), []);
  const out = rb.poll(110);
  t.same(out.map((r) => [r.packet.sequence, r.lost]), [[3, 1]]);
  // Full: 5 missing, 6..9 held (capacity 4) → give up on 5 at once.
  for (const s of [6, 7, 8]) t.same(seqs(rb.push(p(s), 120)), []);
  t.same(seqs(rb.push(p(9), 120)), [6, 7, 8, 9]);
  t.equal(rb.stats.lost, 3);
  t.ok(rb.size <= 4);
  t.same(seqs(rb.push(p(2), 130)), [], 'too late');
  t.same(seqs(rb.push(p(10), 130)), [10]);
  t.same(seqs(rb.push(p(10), 130)), [], 'a copy of a released packet counts as late');
  t.same(seqs(rb.push(p(12), 130)), [], 'held: 11 missing');
  t.same(seqs(rb.push(p(12), 131)), [], 'a copy of a held packet is a duplicate');
  t.match(rb.stats, { late: 2, duplicates: 1 });
});

t.test('a sender restart (huge jump) resynchronises instead of waiting', async (t) => {
  const rb = new ReorderBuffer(16, 100);
  rb.push(p(100), 0);
  t.same(seqs(rb.push(p(30000), 1)), [30000]);
  t.same(seqs(rb.push(p(30001), 2)), [30001]);
});
