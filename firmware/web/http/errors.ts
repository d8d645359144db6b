/** An error with an HTTP status and a stable code, rendered as `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, code = 'bad-request') => new HttpError(400, code, message);
export const unauthorized = (message = 'login required') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'your role does not allow this') => new HttpError(403, 'forbidden', message);
export const notFound = (message = 'not found') => new HttpError(404, 'not-found', message);
