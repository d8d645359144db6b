/**
 * RTP over UDP for the RTSP server: one socket pair (RTP on an even port,
 * RTCP on the next) shared by every UDP client, as many RTSP servers do, so
 * a firewall needs two known ports. Media goes only to the address of the
 * client's own RTSP connection (a `destination=` in the Transport is
 * ignored): the server can never be used to flood a third party.
 */
import { createSocket, type Socket } from 'node:dgram';

export class UdpPair {
  private constructor(
    private readonly rtp: Socket,
    private readonly rtcp: Socket,
  ) {}

  get ports(): [number, number] {
    return [this.rtp.address().port, this.rtcp.address().port];
  }

  /** Binds `port` and `port + 1` (port 0: any free even/odd pair, a few tries). */
  static async open(host: string, port: number): Promise<UdpPair> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const rtp = createSocket('udp4');
      const rtcp = createSocket('udp4');
      try {
        await bind(rtp, port === 0 ? 0 : port, host);
        const p = rtp.address().port;
        if (p % 2 !== 0 && port === 0) throw new Error('odd port');
        await bind(rtcp, p + 1, host);
        for (const s of [rtp, rtcp]) s.on('error', () => {}); // send errors (ICMP unreachable...) are per client, never fatal
        return new UdpPair(rtp, rtcp);
      } catch (e) {
        rtp.close();
        rtcp.close();
        if (port !== 0) throw e;
      }
    }
    throw new Error('no free UDP port pair for RTP');
  }

  /** Whoever sends RTCP (receiver reports) to our RTCP port: keep-alive for that client. */
  onRtcp(fn: (address: string, port: number) => void): void {
    this.rtcp.on('message', (_m, r) => fn(r.address, r.port));
  }

  send(rtcp: boolean, host: string, port: number, data: Uint8Array): void {
    (rtcp ? this.rtcp : this.rtp).send(data, port, host);
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

function bind(s: Socket, port: number, host: string): Promise<void> {
  return new Promise((res, rej) => {
    s.once('error', rej);
    s.bind(port, host, () => {
      s.off('error', rej);
      res();
    });
  });
}
