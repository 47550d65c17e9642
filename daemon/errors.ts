/**
 * An error a caller can act on: a stable code, the HTTP status it maps to, and a message that is
 * safe to show (it never carries secrets). Anything else that escapes is a 500 with no detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const notFound = (what: string, key: string) => new AppError(404, 'not_found', `${what} not found: ${key}`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
