import { Injectable } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { concatMap, finalize, from, map, Observable, of } from 'rxjs';
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
 * the turn to the renderer. Recording runs under the turn's span, which ends here.
 *
 * The controller calls it rather than Nest as an interceptor: Nest's interceptor pipeline (an
 * AsyncResource, defer, switchMap and lastValueFrom around every request) cost about a tenth of the
 * CPU of a turn (`npm run bench`, docs/performance.md).
 */
@Injectable()
export class ResponseCaching {
  constructor(
    private readonly recorder: TurnRecorder,
    private readonly drain: DrainState,
  ) {}

  /** Starts the turn (`start`: up to the upstream's answer), records it, and sends it. */
  async finish(start: () => Promise<Turn>, reply: FastifyReply): Promise<void> {
    // Open until the turn is recorded: a stream's tee ends it, anything else the end of this call.
    const recorded = this.drain.track();
    let streaming = false;
    try {
      const turn = await start().catch((error: unknown) => {
        if (!(error instanceof TurnFailedError)) throw error;
        this.recorder.recordSpendOnly(error.record);
        throw error.error;
      });
      if (turn.kind === 'stream') {
        streaming = true;
        renderTurn({ ...turn, events: this.tee(turn.events, turn.draft, turn.span, recorded) }, reply);
        return;
      }
      const stored = await withActiveSpan(turn.span, () => this.recorder.record(turn.response));
      endTurnSpan(turn.span, turn.response, stored);
      if (!stored) throw storeUnavailable();
      renderTurn(turn, reply);
    } finally {
      if (!streaming) recorded();
    }
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
