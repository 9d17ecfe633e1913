import { HttpException, HttpStatus } from '@nestjs/common';

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'upstream_error';

/** OpenAI's error envelope: `{"error":{"message","type","param","code"}}`. */
export interface ApiErrorBody {
  /** `type` is usually an ApiErrorType; an upstream's own type is passed through unchanged. */
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error that reaches the client as-is, in OpenAI's envelope. */
export class ApiError extends HttpException {
  /** Sent as `Retry-After` (seconds) when set. */
  retryAfterSeconds?: number;
  /**
   * A refusal counted and logged in summary where it was decided (see `refused`): the exception filter does not
   * log it one by one.
   */
  summarized = false;

  constructor(
    status: number,
    message: string,
    /** One of ApiErrorType, or an upstream's own type passed through. */
    type: string,
    param: string | null = null,
    code: string | null = null,
  ) {
    super({ error: { message, type, param, code } } satisfies ApiErrorBody, status);
  }

  static invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, message, 'invalid_request_error', param, code);
  }

  static notFound(message: string, param: string | null = null): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, message, 'invalid_request_error', param, 'not_found');
  }

  /**
   * Load shed to protect the service (admission control, the bound on PostgreSQL fallbacks): a retryable 503
   * whose refuser counts it and logs a summary now and then. Past capacity a line per refusal would be a flood,
   * and more work for a replica that is already behind.
   */
  static refused(message: string, code: string, param: string | null, retryAfterSeconds: number): ApiError {
    const error = ApiError.unavailable(message, code, param, retryAfterSeconds);
    error.summarized = true;
    return error;
  }

  /** A dependency is down for now: a retryable 503 `server_error`. */
  static unavailable(message: string, code: string, param: string | null = null, retryAfterSeconds?: number): ApiError {
    const error = new ApiError(HttpStatus.SERVICE_UNAVAILABLE, message, 'server_error', param, code);
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  }
}

export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error: unknown = value.error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}
