import { IncomingMessage } from 'node:http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';

const SERVICE_NAME = 'responses-session-cache';

/**
 * The OpenTelemetry Node SDK as this service runs it. Loaded only when tracing is on (see tracing.ts).
 * Exporter, protocol, endpoint, sampler, propagators and resource come from the OTEL_* variables, read by
 * the SDK itself; here only what the variables cannot say:
 * - traces only: metrics stay on /metrics (Prometheus) and logs on stdout, whatever OTEL_METRICS_EXPORTER
 *   or OTEL_LOGS_EXPORTER say;
 * - the service name when OTEL_SERVICE_NAME does not give one;
 * - probes (/health, /metrics) are not traced;
 * - Redis spans show the command name only: the default serializer would put every argument of EVAL and
 *   EVALSHA (the response JSON, prompt text included) into the span;
 * - PostgreSQL and Redis spans only inside a traced request or batch, never for background polling.
 * No instrumentation records headers (Authorization included) unless told to, and none is told to.
 */
export function startTracingSdk(): { shutdown(): Promise<void> } {
  const sdk = new NodeSDK({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': SERVICE_NAME })),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbe }),
      new UndiciInstrumentation(),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}

function isProbe(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  return url.startsWith('/health/') || url === '/metrics' || url.startsWith('/metrics?');
}
