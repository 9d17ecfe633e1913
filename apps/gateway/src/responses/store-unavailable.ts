import { ApiError } from '../common/api-error';

/** Seconds a client should wait before retrying a turn that could not be stored. */
const RETRY_AFTER_SECONDS = 5;

/** 503 `store_unavailable` with `Retry-After`: a stored turn that must not be acknowledged now. */
export function storeUnavailable(
  message = 'The response could not be stored durably right now; please retry.',
): ApiError {
  return ApiError.unavailable(message, 'store_unavailable', null, RETRY_AFTER_SECONDS);
}

/** The writer's queue is at its bound: refused before the upstream is called. */
export function storeAtCapacity(): ApiError {
  return storeUnavailable(
    'Too many responses are waiting to be written to the database; stored responses are refused for now. ' +
      'Please retry later (store: false requests are still served).',
  );
}
