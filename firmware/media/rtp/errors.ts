/** The one error type of the rtp package: malformed packets and payloads. */
export class RtpError extends Error {
  override readonly name = 'RtpError';
}
