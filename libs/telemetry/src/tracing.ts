import { trace, Tracer } from '@opentelemetry/api';
import { tracingRequested } from './tracing-config';

const TRACER_NAME = 'responses-session-cache';

let sdk: { shutdown(): Promise<void> } | undefined;
let tracer: Tracer | undefined;

/**
 * Starts OpenTelemetry when the OTEL_* variables ask for traces; resolves whether it did. Must run before
 * fastify, ioredis, pg and undici are first loaded: the instrumentations patch them as they load.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdk || !tracingRequested(env)) return false;
  // Loaded only now, so that tracing off loads and patches nothing (the SDK and its exporters are heavy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startTracingSdk } = require('./tracing-sdk') as typeof import('./tracing-sdk');
  sdk = startTracingSdk();
  tracer = trace.getTracer(TRACER_NAME);
  return true;
}

/** Flushes the spans not yet exported and stops the SDK; waits at most `timeoutMs`. */
export async function stopTracing(timeoutMs = 5_000): Promise<void> {
  const running = sdk;
  if (!running) return;
  sdk = undefined;
  tracer = undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([running.shutdown().catch(() => undefined), deadline]);
  clearTimeout(timer);
}

/** The tracer of the service's own spans, or undefined when tracing is off. */
export function serviceTracer(): Tracer | undefined {
  return tracer;
}
