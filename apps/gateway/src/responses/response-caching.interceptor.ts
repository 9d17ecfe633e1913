import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { catchError, concatMap, finalize, from, map, Observable, of, throwError } from 'rxjs';
import { Span } from '@opentelemetry/api';
import { storeUnavailableRecord, StoredResponse, TurnRecorder } from '@app/session-store';
import { withActiveSpan } from '@app/telemetry';
import { DrainState } from '../lifecycle/drain-state';
import { toResponseObject } from './response-object';
import { renderTurn } from './response-render';
import { storeUnavailable } from './store-unavailable';
import { cancelledRecord, Turn, TurnEvent, TurnFailedError } from './turn';
import { endTurnSpan } from './turn-span';

/**
 * Records every response the moment it is finished, before the client sees it finish (TurnRecorder:
 * cached and journaled, or written to PostgreSQL). Streams are teed: recorded on their terminal event
 * only; a stream the client abandons is logged as cancelled, never cached. A stored response that
 * nothing durable could take is not acknowledged: 503, or `response.failed` on a stream. Then hands
 * the turn to the renderer (one interceptor, not two: each costs Nest's pipeline again on every
 * request, measured by `npm run bench`). Recording runs under the turn's span, which ends here.
 */
@Injectable()
export class ResponseCachingInterceptor implements NestInterceptor {
  constructor(
    private readonly recorder: TurnRecorder,
    private readonly drain: DrainState,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Turn>): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    // Open until the turn is recorded: a stream's tee ends it, anything else the end of this pipe.
    const recorded = this.drain.track();
    let streaming = false;
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (!(error instanceof TurnFailedError)) return throwError(() => error);
        this.recorder.recordSpendOnly(error.record);
        return throwError(() => error.error);
      }),
      concatMap(async (turn) => {
        if (turn.kind === 'stream') {
          streaming = true;
          return renderTurn({ ...turn, events: this.tee(turn.events, turn.draft, turn.span, recorded) }, reply);
        }
        const stored = await withActiveSpan(turn.span, () => this.recorder.record(turn.response));
        endTurnSpan(turn.span, turn.response, stored);
        if (!stored) throw storeUnavailable();
        return renderTurn(turn, reply);
      }),
      finalize(() => {
        if (!streaming) recorded();
      }),
    );
  }

  private tee(
    events: Observable<TurnEvent>,
    draft: StoredResponse,
    span: Span | undefined,
    recorded: () => void,
  ): Observable<TurnEvent> {
    let final: StoredResponse | undefined;
    let stored: boolean | undefined;
    return events.pipe(
      concatMap((item) => {
        if (!item.final) return of(item);
        const last = item.final;
        final = last;
        return from(withActiveSpan(span, () => this.recorder.record(last))).pipe(
          map((ok) => {
            stored = ok;
            return ok ? item : notStored(item, last);
          }),
        );
      }),
      finalize(() => {
        if (final) {
          endTurnSpan(span, final, stored !== false);
        } else {
          const cancelled = cancelledRecord(draft, this.drain.cancelCause);
          this.recorder.recordSpendOnly(cancelled);
          endTurnSpan(span, cancelled);
        }
        recorded();
      }),
    );
  }
}

/** The terminal event of a stream whose response could not be stored: `response.failed` instead. */
function notStored(item: TurnEvent, final: StoredResponse): TurnEvent {
  const failed = storeUnavailableRecord(final);
  return {
    event: { type: 'response.failed', sequence_number: item.event.sequence_number, response: toResponseObject(failed) },
    final: failed,
  };
}
