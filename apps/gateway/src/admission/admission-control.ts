import { FastifyInstance } from 'fastify';
import { ApiErrorBody } from '../common/api-error';
import { Admission, overloadRetryAfterSeconds, OVERLOADED_CODE, OVERLOADED_MESSAGE } from './admission';

const TURNS_ROUTE = '/v1/responses';

const OVERLOADED_JSON = JSON.stringify({
  error: { message: OVERLOADED_MESSAGE, type: 'server_error', param: null, code: OVERLOADED_CODE },
} satisfies ApiErrorBody);

/**
 * Admission control at arrival: past capacity, API requests (`/v1/…`) beyond the admitted share
 * (Admission) are refused at once with 503 `server_overloaded` and `Retry-After`, before their body is
 * read, so the ones admitted keep their latency instead of everyone queueing for seconds. Health, metrics
 * and the ops endpoints are never refused. Refusals are counted (`rsc_requests_shed_total`), summed in one
 * log line at most every 10 s and kept out of the access log, so refusing stays cheap.
 */
export function installAdmissionControl(fastify: FastifyInstance, admission: Admission): void {
  fastify.decorateRequest('shed', false);
  fastify.server.on('connection', () => admission.connectionAccepted());
  // Callback hooks, as in request-observability.ts: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/v1/')) return done();
    if (admission.admits()) {
      // 'close' comes for every response, finished or cut (onResponse may not, for a client gone mid-stream).
      if (request.routeOptions.url === TURNS_ROUTE) {
        const ended = admission.turnStarted(request.timing);
        reply.raw.once('close', () => ended(reply.raw.writableFinished));
      }
      return done();
    }
    request.shed = true;
    // Answered here: the request goes no further (`done` is not called).
    void reply
      .code(503)
      .header('retry-after', String(overloadRetryAfterSeconds()))
      .header('content-type', 'application/json; charset=utf-8')
      .send(OVERLOADED_JSON);
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Refused by admission control: not logged line by line. */
    shed: boolean;
  }
}
