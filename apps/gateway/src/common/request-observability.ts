import { Logger } from '@nestjs/common';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Telemetry, traceRequest } from '@app/telemetry';
import { newRequestTiming } from './request-timing';
import { roundMs } from './round-ms';

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace id when it is traced (tracing on, and sampled), for its log line. */
    traceId: string | undefined;
  }
}

/** The caller's `x-request-id` when it is sane, else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One log line and the metrics of every request: route (the template, never the raw URL), status,
 * duration, upstream time, the service's own overhead, where the history came from and, when the
 * request is traced, its trace id (its server span is named after the route). Never the API key or the prompt.
 */
export function installRequestObservability(fastify: FastifyInstance, telemetry: Telemetry): void {
  const logger = new Logger('HTTP');
  fastify.decorateRequest('timing', null as never);
  fastify.decorateRequest('traceId', undefined);
  // Callback hooks: an async one costs a promise and a microtask on every request.
  fastify.addHook('onRequest', (request, reply, done) => {
    request.timing = newRequestTiming();
    request.traceId = traceRequest(request.method, request.routeOptions.url);
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    observeResponse(request, reply, telemetry, logger);
    done();
  });
}

/** The metrics and the log line of one answered request. */
function observeResponse(request: FastifyRequest, reply: FastifyReply, telemetry: Telemetry, logger: Logger): void {
  const route = request.routeOptions.url ?? 'unmatched';
  const seconds = reply.elapsedTime / 1000;
  const status = reply.statusCode;
  telemetry.httpDuration.observe({ method: request.method, route, status: String(status) }, seconds);
  const { upstreamMs, calledUpstream } = request.timing;
  const overheadMs = calledUpstream ? Math.max(0, reply.elapsedTime - upstreamMs) : undefined;
  const stream = String(reply.getHeader('content-type') ?? '').startsWith('text/event-stream');
  if (overheadMs !== undefined) telemetry.overhead.observe({ stream: String(stream) }, overheadMs / 1000);
  if (route === '/metrics' || route.startsWith('/health') || request.shed) return;
  logger.log({
    msg: 'request',
    request_id: request.id,
    method: request.method,
    route,
    status,
    duration_ms: roundMs(reply.elapsedTime),
    ...(calledUpstream ? { upstream_ms: roundMs(upstreamMs), overhead_ms: roundMs(overheadMs ?? 0) } : {}),
    ...(stream ? { stream: true } : {}),
    ...headerField('cache', reply.getHeader('x-session-cache')),
    ...headerField('session_id', reply.getHeader('x-session-id')),
    ...(request.traceId ? { trace_id: request.traceId } : {}),
  });
}

function headerField(name: string, value: unknown): Record<string, string> {
  return typeof value === 'string' ? { [name]: value } : {};
}
