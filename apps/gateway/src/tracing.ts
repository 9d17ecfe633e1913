/**
 * main.ts imports this first: OpenTelemetry starts (when the OTEL_* variables ask for traces) before
 * fastify, ioredis, pg and undici are loaded, so that its instrumentations can patch them as they load.
 */
import { startTracing } from '@app/telemetry/tracing';

startTracing(process.env);
