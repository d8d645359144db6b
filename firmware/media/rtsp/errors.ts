/** The error types of the rtsp package; everything it throws or emits is one of these. */

export class RtspError extends Error {
  override name = 'RtspError';
}

/** The peer broke the protocol: malformed message, SDP or header, or a limit exceeded. */
export class RtspProtocolError extends RtspError {
  override name = 'RtspProtocolError';
}

/** The camera refused our credentials (or we had none to give). */
export class RtspUnauthorized extends RtspError {
  override name = 'RtspUnauthorized';
}

/** A step, or the media, did not arrive in time. */
export class RtspTimeout extends RtspError {
  override name = 'RtspTimeout';
}

/** A response with an unexpected status code. */
export class RtspStatusError extends RtspError {
  override name = 'RtspStatusError';
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly method: string,
  ) {
    super(`${method} failed: ${status} ${reason}`);
  }
}

/** The connection closed or failed (camera gone, network down, or we closed it). */
export class RtspConnectionError extends RtspError {
  override name = 'RtspConnectionError';
}
