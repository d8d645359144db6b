/** A scripted RTSP server for protocol cases a real camera will not produce on demand. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export function listen(server: Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));
}

export interface FakeServer {
  url: string;
  requests: string[];
  sockets: Socket[];
  close(): void;
}

/** Answers each request head with what reply() returns (nothing if undefined). */
export async function fakeServer(reply: (req: string, cseq: string) => string | undefined): Promise<FakeServer> {
  const requests: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, i);
        buf = buf.slice(i + 4);
        requests.push(req);
        const out = reply(req, /CSeq: (\d+)/i.exec(req)?.[1] ?? '0');
        if (out !== undefined) s.write(out);
      }
    });
    s.on('error', () => {});
  });
  const port = await listen(server);
  return { url: `rtsp://127.0.0.1:${port}/cam`, requests, sockets, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}

