/** A pair of UDP sockets on consecutive ports (RTP even, RTCP odd), as RFC 3550 §11 asks. */
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { RtspError } from './errors.js';

/**
 * A keyframe arrives as a burst of hundreds of datagrams; the default receive
 * buffer (~200 kB) overflows when the event loop is busy for a moment. The
 * kernel caps this at net.core.rmem_max.
 */
const RECV_BUFFER = 2 * 1024 * 1024;

function bind(type: SocketType, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type, recvBufferSize: RECV_BUFFER });
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

export async function bindPortPair(type: SocketType): Promise<[Socket, Socket]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const rtp = await bind(type, 0);
    if (!rtp) break;
    const port = rtp.address().port;
    if (port % 2 === 0 && port < 65535) {
      const rtcp = await bind(type, port + 1);
      if (rtcp) return [rtp, rtcp];
    }
    rtp.close();
  }
  throw new RtspError('could not bind a pair of consecutive UDP ports for RTP/RTCP');
}
