/** A bundle the box refuses, with the reason in words; nothing was installed. */
export class UpgradeError extends Error {
  override name = 'UpgradeError';
  /** 413 for an upload over the size limit, 422 for a bundle refused on its content, 409 when another upgrade runs. */
  constructor(
    message: string,
    readonly status: 409 | 413 | 422 = 422,
  ) {
    super(message);
  }
}
