import t from 'tap';
import { combineLiveChannels, parseRestreamPath, type LiveChannels } from '../../../firmware/restream/restream-service.js';

const source = (id: string, subs: string[]): LiveChannels => ({
  has: (c, v) => c === id && (v === 'main' || subs.includes(c)),
  liveTracks: (c) => [{ codec: 'h264', config: new Uint8Array([c.length]) }],
  subscribe: (c, v) => {
    subs.push(`${c}/${v}`);
    return () => {};
  },
});

t.test('several channel services served as one', async (t) => {
  const ipSubs: string[] = [];
  const both = combineLiveChannels(source('ip1', ipSubs), source('analog1', []));
  t.ok(both.has('ip1', 'main') && both.has('analog1', 'main'), 'channels of both');
  t.notOk(both.has('analog1', 'sub'), 'only what a source has');
  t.same(both.liveTracks('nope', 'main'), [], 'unknown: no tracks');
  t.equal(both.liveTracks('analog1', 'main')[0]?.config[0], 7, 'tracks from the right source');
  t.type(both.subscribe('nope', 'main', { frame: () => {}, end: () => {} }), 'function', 'subscribing to nothing is harmless');
  both.subscribe('ip1', 'main', { frame: () => {}, end: () => {} });
  t.same(ipSubs, ['ip1/main'], 'subscriptions reach the source');
});

t.test('restream paths', async (t) => {
  t.same(parseRestreamPath('ch1/main'), { channel: 'ch1', video: 'main' });
  t.same(parseRestreamPath('gate-2/sub'), { channel: 'gate-2', video: 'sub' });
  for (const bad of ['ch1', 'ch1/main/x', '../etc/main', 'CH1/main', 'ch1/third', '']) t.equal(parseRestreamPath(bad), null, `"${bad}" is not a stream`);
});
