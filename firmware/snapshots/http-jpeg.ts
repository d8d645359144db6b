// A JPEG over HTTP from an IP camera's snapshot URI (ONVIF GetSnapshotUri),
// with the camera's own Basic or Digest login: cameras protect the snapshot
// URL like the stream, and Digest (RFC 7616) is the same exchange as RTSP's.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Authenticator, type Credentials } from '../media/rtsp/auth.js';

export interface JpegFetchOptions {
  timeoutMs?: number;
  /** A bigger answer is refused (default 8 MiB). */
  maxBytes?: number;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
  constructor(
    message: string,
    /** True when the channel has no picture to give at all (no source, not running), rather than a camera failing. */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  challenges: string[];
  type: string;
  body: Buffer;
}

function get(url: URL, authorization: string | undefined, o: Required<JpegFetchOptions>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'image/jpeg', ...(authorization ? { authorization } : {}) },
        // A camera's certificate is its own self-signed one; the LAN is the trust boundary here, as for RTSP.
        ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
        timeout: o.timeoutMs,
      },
      (res: IncomingMessage) => {
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes) {
            reject(new SnapshotError(`the camera sent more than ${o.maxBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, challenges, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    // A whole deadline, not only an idle one: a camera trickling a byte at a time is cut too.
    const deadline = setTimeout(() => req.destroy(new SnapshotError(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new SnapshotError(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof SnapshotError ? err : new SnapshotError(`the camera did not answer: ${err.message}`)));
    req.end();
  });
}

/** GETs `url` (credentials separate, never in the URL or the log) and checks that a JPEG came back. */
export async function fetchJpeg(url: string, creds: Credentials | undefined, options: JpegFetchOptions = {}): Promise<Buffer> {
  const o = { timeoutMs: options.timeoutMs ?? 5000, maxBytes: options.maxBytes ?? 8 * 1024 * 1024 };
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SnapshotError(`not an HTTP snapshot URI: ${u.protocol}`);
  u.username = u.password = '';
  const auth = new Authenticator(creds);
  const path = u.pathname + u.search;
  let a = await get(u, undefined, o);
  if (a.status === 401) {
    try {
      auth.challenge(a.challenges);
    } catch (err) {
      throw new SnapshotError(`the camera refused the snapshot: ${(err as Error).message}`);
    }
    a = await get(u, auth.authorization('GET', path), o);
    if (a.status === 401) throw new SnapshotError('the camera refused the snapshot: wrong user name or password');
  }
  if (a.status !== 200) throw new SnapshotError(`the camera answered the snapshot with HTTP ${a.status}`);
  if (a.body.length < 4 || a.body[0] !== 0xff || a.body[1] !== 0xd8 || a.body[2] !== 0xff) {
    throw new SnapshotError(`the camera's snapshot is not a JPEG (${a.type || 'no content type'}, ${a.body.length} bytes)`);
  }
  return a.body;
}
