// The whole client (the onvif package's request/reply handling and ours) against a
// camera whose replies are damaged: a proxy in front of the simulator mutates the
// n-th reply. Every call must resolve or reject with OnvifError/PtzError; nothing
// may throw out of band (uncaughtException) or hang.
import t from 'tap';
import fc from 'fast-check';
import { createServer, request } from 'node:http';
import { OnvifCamera, OnvifError, OnvifPtz } from '../../../firmware/onvif/index.js';
import { PtzError } from '../../../firmware/ptz/index.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);
const streams = { main: { uri: 'rtsp://127.0.0.1:9/main', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/sub', width: 640, height: 360 } };

t.test('damaged replies: clear errors, never an uncaught exception', async (t) => {
  const sim = new OnvifCameraSim({ streams });
  await sim.start();
  let mutate: (body: string, n: number) => string = (b) => b;
  let n = 0;
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = request({ host: sim.host, port: sim.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => {
          const body = Buffer.from(mutate(Buffer.concat(parts).toString('utf8'), n++));
          res.writeHead(r.statusCode ?? 500, { 'Content-Type': r.headers['content-type'] ?? 'text/plain', 'Content-Length': body.length });
          res.end(body);
        });
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as { port: number }).port;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  t.teardown(async () => {
    process.off('uncaughtException', onUncaught);
    await new Promise<void>((r) => proxy.close(() => r()));
    await sim.stop();
  });

  const insertion = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '<', '</', '>', '&', '"', '<x>', '</s:Body>', '<!--', 'xmlns:a="b"'));
  const r = await fc.check(
    fc.asyncProperty(fc.nat(12), fc.nat(4000), fc.nat(60), insertion, async (target, at, cut, ins) => {
      n = 0;
      // Damage reply number `target` only: earlier calls succeed, so every stage of the client is reached.
      mutate = (b, i) => (i === target ? b.slice(0, at % (b.length + 1)) + ins + b.slice((at % (b.length + 1)) + cut) : b);
      const camera = new OnvifCamera({ host: '127.0.0.1', port, username: sim.username, password: sim.password, timeoutMs: 2000 });
      const ptz = new OnvifPtz({ camera });
      for (const step of [() => camera.streams(), () => ptz.refreshPresets(), () => ptz.rawPosition(), () => ptz.setPreset(3, 'x')]) {
        try {
          await step();
        } catch (e) {
          if (!(e instanceof OnvifError) && !(e instanceof PtzError)) throw e;
        }
      }
      return uncaught.length === 0;
    }),
    { numRuns: RUNS },
  );
  t.notOk(r.failed, r.failed ? (fc.defaultReportMessage(r) ?? 'failed') : `${r.numRuns} damaged conversations`);
  t.same(uncaught.map(String), []);
});
