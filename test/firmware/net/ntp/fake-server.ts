/**
 * An NTP server on a loopback UDP port that answers as a test tells it:
 * like a real server (its clock as far off ours as asked), forged, kissing,
 * from another port, or not at all.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodePacket, encodePacket, unixMsToNtp, type NtpPacket } from '../../../../firmware/net/ntp/packet.js';

/** `send` answers from the server's own port, or from a second socket on another port. */
export type Answer = (req: NtpPacket, send: (reply: Buffer, from?: 'own' | 'other') => void) => void;

/** What a synchronised stratum-2 server answers to `req`, its clock `offsetMs` ahead of ours; `over` changes fields. */
export function realReply(req: NtpPacket, offsetMs = 0, over: Partial<NtpPacket> = {}): Buffer {
  const now = Date.now() + offsetMs;
  return encodePacket({
    leap: 0, version: 4, mode: 4, stratum: 2, poll: req.poll, precision: -20,
    rootDelay: 0x00000400, rootDispersion: 0x00000200, refId: 0xc0a80101,
    reference: unixMsToNtp(now - 60_000), originate: req.transmit, receive: unixMsToNtp(now), transmit: unixMsToNtp(now + 0.05),
    ...over,
  });
}

/** A loopback UDP port that was free a moment ago: nothing listens there (a dead server), or a server started on it. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class FakeNtpServer {
  readonly requests: NtpPacket[] = [];

  private constructor(
    private readonly own: Socket,
    private readonly other: Socket,
  ) {}

  /** `otherAddress`: where the second socket is, on another port of `address` by default, else on the server's port number there. */
  static async start(answer: Answer, address = '127.0.0.1', otherAddress = address): Promise<FakeNtpServer> {
    const type = address.includes(':') ? 'udp6' : 'udp4';
    const bind = (s: Socket, port: number, at: string) => new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, at, () => resolve());
    });
    const server = new FakeNtpServer(createSocket(type), createSocket(type));
    await bind(server.own, 0, address);
    await bind(server.other, otherAddress === address ? 0 : server.port, otherAddress);
    server.own.on('message', (msg, rinfo: RemoteInfo) => {
      const req = decodePacket(msg);
      server.requests.push(req);
      answer(req, (reply, from = 'own') => (from === 'own' ? server.own : server.other).send(reply, rinfo.port, rinfo.address));
    });
    return server;
  }

  get port(): number {
    return this.own.address().port;
  }

  get otherEnd(): { address: string; port: number } {
    return this.other.address();
  }

  close(): void {
    this.own.close();
    this.other.close();
  }
}
