/**
 * Errors with stable codes. Every code is listed in docs/error-codes.md; a test keeps the two in
 * step. `CoreError` stops boot or a request; `HttpError` carries the status the caller sees.
 */
export class CoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CoreError';
  }
}

/** An error a route handler throws to answer with a given status and the error envelope. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, id: string): HttpError =>
  new HttpError(404, 'NOT_FOUND', `${what} ${JSON.stringify(id)} was not found`);

export const conflict = (message: string, details?: unknown): HttpError =>
  new HttpError(409, 'CONFLICT', message, details);

/**
 * A step failed. `retryable` says whether the engine should try again (after backoff) or go
 * straight to the error path.
 */
export class StepError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StepError';
  }
}

/**
 * Thrown by an action that cannot act yet (a delay, a window that has not opened): the engine
 * parks the execution until `until` and runs the step again then, with the same idempotency key.
 */
export class StepDeferral extends Error {
  constructor(readonly until: Date, readonly code: string, readonly reason: string) {
    super(reason);
    this.name = 'StepDeferral';
  }
}
