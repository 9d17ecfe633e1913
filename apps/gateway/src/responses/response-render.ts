import { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Observable, Subscription } from 'rxjs';
import { toResponseObject } from './response-object';
import { toSse } from './stream-events';
import { Turn, TurnEvent } from './turn';

/**
 * Turns a Turn into the HTTP body: the Response object as JSON, or the events as an SSE stream
 * that Fastify writes as they come. Closing the connection destroys the stream, which unsubscribes
 * and so aborts the upstream request.
 */
export function renderTurn(turn: Turn, reply: FastifyReply): unknown {
  void reply.header('x-session-id', turn.sessionId);
  if (turn.kind === 'response') {
    void reply.header('x-session-cache', turn.response.historySource);
    return toResponseObject(turn.response);
  }
  void reply
    .header('x-session-cache', turn.draft.historySource)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no');
  return sseStream(turn.events);
}

function sseStream(events: Observable<TurnEvent>): Readable {
  let subscription: Subscription | undefined;
  let lastSequence = -1;
  const stream = new Readable({
    read() {
      subscription ??= events.subscribe({
        next: ({ event }) => {
          lastSequence = event.sequence_number;
          stream.push(toSse(event));
        },
        error: () => {
          const message = 'The server had an error while streaming the response.';
          stream.push(
            toSse({ type: 'error', sequence_number: lastSequence + 1, code: 'server_error', message, param: null }),
          );
          stream.push(null);
        },
        complete: () => stream.push(null),
      });
    },
    destroy(error, callback) {
      // Closed before the first read: subscribe once anyway so the turn's teardown runs (the upstream
      // body is released, the spend log gets a cancelled row).
      subscription ??= events.subscribe({ error: () => undefined });
      subscription.unsubscribe();
      callback(error);
    },
  });
  return stream;
}
