import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { catchError, concatMap, finalize, from, map, Observable, of, throwError } from 'rxjs';
import { isResolvable, ResponseCache, SpendLogWriter, StoredResponse } from '@app/session-store';
import { renderTurn } from './response-render';
import { cancelledRecord, Turn, TurnEvent, TurnFailedError } from './turn';

/**
 * Records every response the moment it is finished, before the client sees it finish: queued for
 * the spend log (always), cached in Redis (when it can be continued). Streams are teed: cached on
 * their terminal event only; a stream the client abandons is logged as cancelled, never cached.
 * Then hands the turn to the renderer (one interceptor, not two: each costs Nest's pipeline again
 * on every request, measured by `npm run bench`).
 */
@Injectable()
export class ResponseCachingInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: ResponseCache,
    private readonly writer: SpendLogWriter,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Turn>): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (!(error instanceof TurnFailedError)) return throwError(() => error);
        this.writer.enqueue(error.record);
        return throwError(() => error.error);
      }),
      concatMap(async (turn) => {
        if (turn.kind === 'stream') return renderTurn({ ...turn, events: this.tee(turn.events, turn.draft) }, reply);
        await this.record(turn.response);
        return renderTurn(turn, reply);
      }),
    );
  }

  private tee(events: Observable<TurnEvent>, draft: StoredResponse): Observable<TurnEvent> {
    let finished = false;
    return events.pipe(
      concatMap((item) => {
        if (!item.final) return of(item);
        finished = true;
        return from(this.record(item.final)).pipe(map(() => item));
      }),
      finalize(() => {
        if (!finished) this.writer.enqueue(cancelledRecord(draft));
      }),
    );
  }

  /** Never throws: Redis failures are counted and logged by the cache. */
  private async record(response: StoredResponse): Promise<void> {
    this.writer.enqueue(response);
    if (isResolvable(response)) await this.cache.save([response]);
  }
}
