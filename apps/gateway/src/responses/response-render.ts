import { FastifyReply } from 'fastify';
import { OutgoingHttpHeaders } from 'node:http';
import { Observable } from 'rxjs';
import { toResponseObject } from './response-object';
import { toSse } from './stream-events';
import { Turn, TurnEvent } from './turn';

const STREAM_ERROR = 'The server had an error while streaming the response.';

/**
 * Sends a Turn: the Response object as JSON, or the events as an SSE stream written as they come.
 * Closing the connection unsubscribes, which aborts the upstream request.
 */
export function renderTurn(turn: Turn, reply: FastifyReply): void {
  void reply.header('x-session-id', turn.sessionId);
  if (turn.kind === 'response') {
    void reply.header('x-session-cache', turn.response.historySource).send(toResponseObject(turn.response));
    return;
  }
  void reply
    .header('x-session-cache', turn.draft.historySource)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no');
  writeSse(turn.events, reply);
}

/**
 * Writes the events straight to the connection. Fastify's stream sending (a Readable piped to the
 * response, watched from both ends) held about 9 KB per open stream for what one write per event does
 * (docs/performance.md). The reply's onResponse hooks still run when the response ends.
 */
function writeSse(events: Observable<TurnEvent>, reply: FastifyReply): void {
  void reply.hijack();
  const response = reply.raw;
  if (!response.destroyed) {
    try {
      response.writeHead(200, reply.getHeaders() as OutgoingHttpHeaders);
    } catch {
      // A header Node refuses (none of ours should be): past hijack() nothing else would answer, so the
      // connection is closed rather than left hanging.
      response.destroy();
    }
  }
  if (response.destroyed) {
    // Closed (the client went away while the turn started, or above): subscribe once anyway so the turn's teardown runs
    // (the upstream body is released, the spend log gets a cancelled row).
    events.subscribe({ error: () => undefined }).unsubscribe();
    return;
  }
  let lastSequence = -1;
  const subscription = events.subscribe({
    next: ({ event }) => {
      lastSequence = event.sequence_number;
      response.write(toSse(event));
    },
    error: () => {
      const sequence_number = lastSequence + 1;
      response.end(toSse({ type: 'error', sequence_number, code: 'server_error', message: STREAM_ERROR, param: null }));
    },
    complete: () => response.end(),
  });
  // Closed before the end (the client went away): unsubscribing aborts the upstream request.
  response.once('close', () => subscription.unsubscribe());
}
