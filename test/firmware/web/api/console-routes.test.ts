// The page as a console: a linkage rule's popup reaches the signed-in pages
// over Server-Sent Events, only for accounts that may watch that channel live.
import t from 'tap';
import { request } from 'node:https';
import { EventBus } from '../../../../firmware/core/bus.js';
import { systemClock } from '../../../../firmware/core/clock.js';
import { boxTargets } from '../../../../firmware/linkage/box-targets.js';
import type { WebService } from '../../../../firmware/web/web-service.js';
import { caller, startWeb } from '../web-service.js';

/** An EventSource-like reader: collects `event: popup` payloads. */
function listen(web: WebService, cookie: string) {
  const popups: { channel: string; seconds: number; rule: string; at: number }[] = [];
  let status = 0;
  let close = () => {};
  const opened = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.ports!.https, path: '/api/v1/console/events', ca: web.certificate!.cert, servername: 'localhost', headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      status = res.statusCode!;
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          if (block.startsWith('event: popup\n')) popups.push(JSON.parse(block.split('\ndata: ')[1]!));
        }
      });
      resolve();
    });
    req.on('error', reject);
    req.end();
    close = () => req.destroy();
    t.teardown(close);
  });
  return { popups, opened, status: () => status, close: () => close() };
}

t.test('GET /api/v1/console/events: a rule popup, to those who may watch', async (t) => {
  const bus = new EventBus();
  const { web, config } = await startWeb({ popups: (l) => bus.on('consolePopup', l) });
  t.teardown(() => web.stop());
  await config.set('channels', [{ id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:1/a' } }, { id: 'gate', name: 'Gate', main: { url: 'rtsp://127.0.0.1:1/b' } }]);
  const https = caller(web);
  const admin = (await https('POST', '/api/v1/setup', {}, { name: 'installer', password: 'Install-Er-2026' })).cookie;
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77', { gate: ['live'] });
  const guard = (await https('POST', '/api/v1/login', {}, { name: 'guard', password: 'Night-Shift-77' })).cookie;

  t.equal((await https('GET', '/api/v1/console/events')).status, 401, 'no session: 401');
  const a = listen(web, admin);
  const g = listen(web, guard);
  await Promise.all([a.opened, g.opened]);
  t.equal(a.status(), 200);
  // The rule engine's popup action, as the firmware wires it.
  const popup = boxTargets({ bus, clock: systemClock, channels: () => ['yard', 'gate'], mqttEnabled: false }).popup!;
  await popup('yard', 20, 'Yard PIR');
  await popup('gate', 10, 'Gate opened');
  await new Promise((r) => setTimeout(r, 300));
  t.same(a.popups, [{ channel: 'yard', seconds: 20, rule: 'Yard PIR', at: a.popups[0]?.at }, { channel: 'gate', seconds: 10, rule: 'Gate opened', at: a.popups[1]?.at }], 'the admin page is told of both, in order');
  t.same(g.popups.map((p) => p.channel), ['gate'], 'the guard, who may watch the gate only, is not shown the yard');
  t.equal(bus.listenerCount('consolePopup'), 2, 'one listener per open page');
  a.close();
  g.close();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(bus.listenerCount('consolePopup'), 0, 'a closed page leaves no listener behind');
});
