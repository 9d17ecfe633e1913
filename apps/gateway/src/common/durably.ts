import { ApiError } from './api-error';

/** A PostgreSQL-backed store that did not answer: a retryable 503 (`store_unavailable`), not a 500. */
export async function durably<T>(
  operation: () => Promise<T>,
  store: 'response' | 'conversation' = 'response',
): Promise<T> {
  try {
    return await operation();
  } catch {
    throw ApiError.unavailable(`The ${store} store is temporarily unavailable; please retry.`, 'store_unavailable');
  }
}
