import { context, Span, SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTRIBUTES } from './trace-names';
import { serviceTracer } from './tracing';

/**
 * Span helpers that cost nothing when tracing is off: no span, no attribute map, no context switch.
 * They return or pass `undefined` instead of a span, so callers write `span?.setAttribute(...)`.
 */

/**
 * A span under the active one; undefined when tracing is off or no recorded span is active (work outside
 * a traced request, or in one the sampler dropped). `options.root` starts a trace of its own instead.
 */
export function startSpan(name: string, options?: SpanOptions): Span | undefined {
  const tracer = serviceTracer();
  if (!tracer) return undefined;
  if (!options?.root && !trace.getActiveSpan()?.isRecording()) return undefined;
  return tracer.startSpan(name, options);
}

/** Runs `work` with `span` active, so the spans started inside (the instrumentations' too) are its children. */
export function withActiveSpan<T>(span: Span | undefined, work: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), work) : work();
}

export interface InSpanOptions extends SpanOptions {
  /** How a thrown error is named in `error.type` (default: its code, else its class). */
  errorType?: (error: unknown) => string;
}

/** Runs `work` in a span of its own, ended when `work` settles; marked failed when it throws. */
export function inSpan<T>(
  name: string,
  work: (span: Span | undefined) => Promise<T>,
  options?: InSpanOptions,
): Promise<T> {
  const span = startSpan(name, options);
  return span ? runInSpan(span, work, options?.errorType ?? errorTypeOf) : work(undefined);
}

async function runInSpan<T>(
  span: Span,
  work: (span: Span) => Promise<T>,
  errorType: (error: unknown) => string,
): Promise<T> {
  try {
    return await withActiveSpan(span, () => work(span));
  } catch (error) {
    markFailed(span, errorType(error));
    throw error;
  } finally {
    span.end();
  }
}

/** Error status with a low-cardinality `error.type` (a code, never a message: messages may quote input). */
export function markFailed(span: Span | undefined, errorType: string): void {
  if (!span?.isRecording()) return;
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute(ATTRIBUTES.errorType, errorType);
}

/**
 * Names the active HTTP server span after its route (`POST /v1/responses`, as a framework instrumentation
 * would) and returns its trace id; undefined when the request is not traced.
 */
export function traceRequest(method: string, route: string | undefined): string | undefined {
  if (!serviceTracer()) return undefined;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  if (route !== undefined) {
    span.setAttribute(ATTRIBUTES.httpRoute, route);
    span.updateName(`${method} ${route}`);
  }
  return span.spanContext().traceId;
}

/** A short, low-cardinality name for an error: its string `code` (Node, pg, ours) or its class. */
export function errorTypeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    return error.constructor.name;
  }
  return 'error';
}
