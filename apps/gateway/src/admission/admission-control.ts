import { Logger } from '@nestjs/common';
import { FastifyInstance } from 'fastify';
import { Telemetry } from '@app/telemetry';
import { ApiErrorBody } from '../common/api-error';
import { AdmissionRatio } from './admission-ratio';

/** How often the admitted share is adjusted. */
const WINDOW_MS = 100;
const RETRY_AFTER_SECONDS = 1;
const TURNS_ROUTE = '/v1/responses';
/** At most one log line about shedding this often (counts in between are summed). */
const LOG_EVERY_MS = 10_000;

const OVERLOADED_JSON = JSON.stringify({
  error: {
    message: 'The service is overloaded; please retry after a short wait.',
    type: 'server_error',
    param: null,
    code: 'server_overloaded',
  },
} satisfies ApiErrorBody);

/**
 * Admission control: past capacity, API requests (`/v1/…`) beyond what the service can serve are
 * refused at once with 503 `server_overloaded` and `Retry-After`, before their body is read and before
 * any store or the upstream is asked, so the ones admitted keep their latency instead of everyone
 * queueing for seconds. The signal (AdmissionRatio) is the service's own time per turn, without the
 * upstream's: a standing queue shows in it, a slow upstream does not. Health, metrics and the ops
 * endpoints are never refused. Refusals are counted (`rsc_requests_shed_total`), summed in one log line at
 * most every 10 s and kept out of the access log, so refusing stays cheap.
 */
export function installAdmissionControl(fastify: FastifyInstance, targetMs: number, telemetry: Telemetry): void {
  const ratio = new AdmissionRatio(targetMs);
  const logger = new Logger('Admission');
  let least: number | undefined;
  let shedSinceLog = 0;
  let firstShedAt = 0;
  let lastLog = -LOG_EVERY_MS;

  const timer = setInterval(() => {
    ratio.observe(least);
    least = undefined;
    const now = performance.now();
    if (shedSinceLog > 0 && now - lastLog >= LOG_EVERY_MS) {
      logger.warn(
        `Overloaded: refused ${shedSinceLog} requests in ${((now - firstShedAt) / 1000).toFixed(1)} s ` +
          `(now admitting ${Math.round(ratio.value * 100)}%)`,
      );
      shedSinceLog = 0;
      lastLog = now;
    }
  }, WINDOW_MS).unref();
  fastify.addHook('onClose', async () => clearInterval(timer));
  telemetry.gaugeFrom('rsc_admitted_share', 'Share of arriving API requests admitted (1 = all)', () => ratio.value);

  fastify.decorateRequest('shed', false);
  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/') || ratio.admits(Math.random())) return;
    request.shed = true;
    if (shedSinceLog++ === 0) firstShedAt = performance.now();
    telemetry.requestsShed.inc();
    return reply
      .code(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .header('content-type', 'application/json; charset=utf-8')
      .send(OVERLOADED_JSON);
  });
  // Turns only: the one route whose upstream time is known (a passthrough request's whole duration may be
  // the upstream's).
  fastify.addHook('onResponse', async (request, reply) => {
    if (request.shed || request.routeOptions.url !== TURNS_ROUTE) return;
    const own = reply.elapsedTime - request.timing.upstreamMs;
    if (least === undefined || own < least) least = own;
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Refused by admission control: not logged line by line. */
    shed: boolean;
  }
}
