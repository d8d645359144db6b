import { rightsOn } from '../auth/roles.js';
import type { Router } from '../http/router.js';
import { SECURITY_HEADERS } from '../http/router.js';

export interface ConsolePopup {
  channel: string;
  seconds: number;
  rule: string;
  at: number;
}

/** Comments keep idle proxies and the browser's connection from timing out. */
const HEARTBEAT_MS = 25_000;

/**
 * The page as a console: a Server-Sent Events stream of what the box asks
 * its screens to do (a linkage rule's popup), each sent only to accounts
 * that may watch that channel live. EventSource reconnects by itself.
 */
export function addConsoleRoutes(router: Router, d: { popups: () => ((listener: (p: ConsolePopup) => void) => () => void) | undefined }): void {
  router.add({
    method: 'GET', path: '/api/v1/console/events', access: 'viewer', summary: 'text/event-stream of console requests (event "popup": {channel, seconds, rule, at}) on channels the caller may watch',
    response: { file: 'text/event-stream', description: 'Server-Sent Events, open until the client leaves: "popup" events whose data is {channel, seconds, rule, at (ms)}, and comment lines as a heartbeat' },
    handler: async ({ res, account }) => {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(': console\n\n');
      const subscribe = d.popups();
      const off = subscribe?.((p) => {
        // Rights are read at each popup: a right taken away applies at once.
        if (!rightsOn(account!.role, account!.channels, p.channel).includes('live')) return;
        res.write(`event: popup\ndata: ${JSON.stringify({ channel: p.channel, seconds: p.seconds, rule: p.rule, at: p.at })}\n\n`);
      });
      const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      beat.unref();
      res.on('close', () => {
        clearInterval(beat);
        off?.();
      });
      return undefined;
    },
  });
}
