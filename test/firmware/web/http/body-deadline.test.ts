// The router's own deadline for request bodies: an ordinary body trickled in
// is cut off, while a streamed upload route reads at its own pace.
import t from 'tap';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { memoryLogger } from '../../../../firmware/core/log.js';
import { object, string } from '../../../../firmware/core/schema.js';
import { Router } from '../../../../firmware/web/http/router.js';

const router = new Router({ setupNeeded: () => false, identify: async () => null }, memoryLogger(), 300);
router.add({ method: 'POST', path: '/form', access: 'public', summary: 'a JSON body', body: object({ name: string() }), handler: async ({ body }) => ({ body }) });
router.add({
  method: 'POST', path: '/upload', access: 'public', summary: 'a streamed body', stream: { contentType: 'application/octet-stream', maxBytes: 1000 },
  handler: async ({ req }) => {
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    return { body: { bytes: n } };
  },
});
const server = createServer((req, res) => void router.handle(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => server.close());
const port = (server.address() as { port: number }).port;

/** Sends the head and the body's first part now, the rest after `pauseMs`; what the server answered, or 'closed'. */
function trickle(path: string, type: string, body: string, pauseMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 5)}`);
      setTimeout(() => s.writable && s.end(body.slice(5)), pauseMs);
    });
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('error', () => {});
    s.on('close', () => resolve(text.split('\r\n')[0] || 'closed'));
  });
}

t.test('an ordinary body slower than the deadline is cut off; in time it is answered', async (t) => {
  t.equal(await trickle('/form', 'application/json', '{"name":"slow"}', 800), 'closed', 'the connection is closed, nothing answered');
  t.equal(await trickle('/form', 'application/json', '{"name":"quick"}', 50), 'HTTP/1.1 200 OK');
});

t.test('a streamed upload is not held to that deadline', async (t) => {
  t.equal(await trickle('/upload', 'application/octet-stream', 'x'.repeat(100), 800), 'HTTP/1.1 200 OK');
  t.equal(await trickle('/upload', 'text/plain', 'x'.repeat(100), 10), 'HTTP/1.1 415 Unsupported Media Type', 'another content type: 415');
});
