import { HttpStatus } from '@nestjs/common';
import { ApiError, isApiErrorBody } from '../../common/api-error';

/**
 * Maps an upstream failure to what the client sees: upstream 4xx keep their status and message
 * (429 stays 429), 5xx become 502, an unreachable upstream 502, a timeout 504.
 */
export function fromUpstreamStatus(status: number, bodyText: string): ApiError {
  let upstream: { message: string; type?: string; param?: string | null; code?: string | null } | undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (isApiErrorBody(parsed)) upstream = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  const detail = (upstream?.message ?? bodyText.slice(0, 500)) || `HTTP ${status}`;
  if (status >= 400 && status < 500) {
    return new ApiError(
      status,
      detail,
      upstream?.type ?? 'invalid_request_error',
      upstream?.param ?? null,
      upstream?.code ?? null,
    );
  }
  return new ApiError(
    HttpStatus.BAD_GATEWAY,
    `Upstream error (HTTP ${status}): ${detail}`,
    'upstream_error',
    null,
    'upstream_error',
  );
}

export function upstreamUnreachable(reason: string): ApiError {
  return new ApiError(
    HttpStatus.BAD_GATEWAY,
    `Upstream unreachable: ${reason}`,
    'upstream_error',
    null,
    'upstream_unreachable',
  );
}

export function upstreamTimeout(timeoutMs: number): ApiError {
  return new ApiError(
    HttpStatus.GATEWAY_TIMEOUT,
    `Upstream did not answer within ${timeoutMs} ms.`,
    'upstream_error',
    null,
    'upstream_timeout',
  );
}
