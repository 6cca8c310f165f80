import { RaftwireError } from '../core/errors.js';

/** An HTTP-level refusal: the status and a stable `code` go to the client as JSON. */
export class HttpError extends RaftwireError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}
