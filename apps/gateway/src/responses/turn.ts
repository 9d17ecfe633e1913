import { Span } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { StoredResponse } from '@app/session-store';
import { ApiError } from '../common/api-error';
import { StreamEvent } from './stream-events';

/** One event of a streamed turn; the terminal one carries the finished record. */
export interface TurnEvent {
  event: StreamEvent;
  final?: StoredResponse;
}

/**
 * What the service hands to ResponseCaching: a finished response, or a stream of events; with the
 * turn's span when it is traced, which ResponseCaching ends once the response is recorded.
 */
export type Turn =
  | { kind: 'response'; response: StoredResponse; sessionId: string; span?: Span }
  | { kind: 'stream'; draft: StoredResponse; events: Observable<TurnEvent>; sessionId: string; span?: Span };

/** A turn that failed upstream: the client gets `error`; the record still goes to the spend log. */
export class TurnFailedError extends Error {
  constructor(
    readonly error: ApiError,
    readonly record: StoredResponse,
  ) {
    super(error.message);
  }
}

const CANCELLED_BECAUSE = {
  client: { code: 'client_disconnected', message: 'The client closed the connection before the response completed.' },
  shutdown: { code: 'server_shutdown', message: 'The service shut down before the response completed.' },
};

/** The spend-log record of a turn cut before it finished: its client went away, or the service shut down. */
export function cancelledRecord(
  draft: StoredResponse,
  because: keyof typeof CANCELLED_BECAUSE = 'client',
): StoredResponse {
  return { ...draft, status: 'cancelled', error: CANCELLED_BECAUSE[because], completedAt: Date.now() };
}
