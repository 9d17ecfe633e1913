import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ATTRIBUTES, markFailed, SPAN_NAMES, startSpan, Telemetry, withActiveSpan } from '@app/telemetry';
import { Agent, Dispatcher, request } from 'undici';
import { ApiError, ApiErrorBody } from '../../common/api-error';
import { apiErrorType } from '../../common/api-error-type';
import { RequestTiming } from '../../common/request-timing';
import { fromUpstreamStatus, upstreamTimeout, upstreamUnreachable } from './upstream-error';

export type UpstreamBody = Dispatcher.ResponseData['body'];
type RequestBody = Dispatcher.RequestOptions['body'];

/** An upstream call in progress: its body, and how to tell why it was aborted. */
export interface UpstreamCall {
  body: UpstreamBody;
  /** Why reading the body failed (timeout, client gone, upstream unreachable), for a `response.failed`. */
  reason(error: unknown): { code: string; message: string };
  /** Call once the answer is fully read: records how long the upstream took. */
  finish(outcome: 'ok' | 'error'): void;
  /** The answer is no longer wanted (the client went away): finish and drop the connection. */
  abandon(): void;
  /** Reads a JSON answer whole (and finishes the call); failures reject with the client's ApiError. */
  json<T>(): Promise<T>;
}

/** POSTs to the OpenAI-compatible upstream over a pooled keep-alive connection. */
@Injectable()
export class UpstreamClient implements OnApplicationShutdown {
  private readonly agent: Agent;

  constructor(
    private readonly config: AppConfig,
    private readonly telemetry: Telemetry,
  ) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: config.upstreamMaxConnections || null });
  }

  /** The connection pool to the upstream, shared with the passthrough of the other /v1 routes. */
  get dispatcher(): Dispatcher {
    return this.agent;
  }

  /** After the HTTP server closed (its streams were cut, which aborted their upstream calls). */
  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }

  /**
   * Sends the request and waits for the status line. A non-2xx answer, a connection failure or
   * the timeout reject with the ApiError the client should get; the caller's `signal` aborts.
   * Traced (under the turn's span) until the answer is read: the HTTP client span is its child, and
   * carries the `traceparent` to the upstream.
   */
  async post(
    path: string,
    payload: unknown,
    authorization: string | undefined,
    signal: AbortSignal,
    timing: RequestTiming,
  ): Promise<UpstreamCall> {
    if (signal.aborted) throw upstreamUnreachable('the client went away before the upstream was called');
    const started = performance.now();
    const streaming = (payload as { stream?: boolean }).stream === true;
    const labels = { api: this.config.upstreamApi, stream: String(streaming) };
    const span = startSpan(SPAN_NAMES.upstream);
    span?.setAttribute(ATTRIBUTES.openAiApiType, this.config.upstreamApi === 'chat' ? 'chat_completions' : 'responses');
    let finished = false;
    /** `errorType`: the failure's code, for the span (default `upstream_error`). */
    const finish = (outcome: 'ok' | 'error', errorType = 'upstream_error') => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onClientAbort);
      const seconds = (performance.now() - started) / 1000;
      timing.calledUpstream = true;
      timing.upstreamMs += seconds * 1000;
      this.telemetry.upstreamDuration.observe({ ...labels, outcome }, seconds);
      if (span) {
        if (outcome === 'error') markFailed(span, errorType);
        span.end();
      }
    };
    // One controller for both reasons to stop: the client went away, or the time is up.
    const abort = new AbortController();
    const onClientAbort = () => abort.abort();
    signal.addEventListener('abort', onClientAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.config.upstreamTimeoutMs);
    const failure = (error: unknown): ApiError => {
      if (error instanceof ApiError) return error;
      if (timedOut) return upstreamTimeout(this.config.upstreamTimeoutMs);
      if (signal.aborted) return upstreamUnreachable('the client went away');
      return upstreamUnreachable(describeNetworkError(error));
    };
    const auth = this.config.upstreamApiKey ? `Bearer ${this.config.upstreamApiKey}` : authorization;
    const options = {
      method: 'POST' as const,
      dispatcher: this.agent,
      signal: abort.signal,
      ...requestBody(payload, streaming),
      headersTimeout: this.config.upstreamTimeoutMs,
      bodyTimeout: this.config.upstreamTimeoutMs,
    };
    if (auth) options.headers.authorization = auth;
    let response: Dispatcher.ResponseData;
    try {
      response = await withActiveSpan(span, () => request(`${this.config.upstreamBaseUrl}${path}`, options));
    } catch (error) {
      const apiError = failure(error);
      finish('error', apiErrorType(apiError));
      throw apiError;
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await response.body.text().catch(() => '');
      const apiError = fromUpstreamStatus(response.statusCode, text);
      finish('error', apiErrorType(apiError));
      throw apiError;
    }
    const body = response.body;
    const reason = (error: unknown) => {
      const { code, message } = (failure(error).getResponse() as ApiErrorBody).error;
      return { code: code ?? 'upstream_error', message };
    };
    const abandon = () => {
      finish('error', 'client_disconnected');
      if (!body.destroyed) body.destroy();
    };
    const json = async <T>(): Promise<T> => {
      try {
        const parsed = (await body.json()) as T;
        finish('ok');
        return parsed;
      } catch (error) {
        const apiError = failure(error);
        finish('error', apiErrorType(apiError));
        throw apiError;
      }
    };
    return { body, reason, finish, abandon, json };
  }
}

/**
 * The JSON body and its headers. undici keeps the body it is given until the call ends, which for a stream is
 * its whole life, and keeps a string as well as the bytes it makes of it (the whole history, twice, per open
 * stream): so bytes, and for a stream bytes that are let go of once sent.
 */
function requestBody(payload: unknown, streaming: boolean) {
  const bytes = Buffer.from(JSON.stringify(payload));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(bytes.byteLength),
  };
  return { headers, body: streaming ? sentOnce(bytes) : bytes };
}

/**
 * A body that is let go of once sent: its only chunk is handed over and dropped (a generator would keep it
 * in its closure). undici takes any Iterable as a body (its docs/api/Dispatcher.md); its types leave that out.
 */
function sentOnce(bytes: Buffer): RequestBody {
  let pending: Buffer | undefined = bytes;
  const chunks: Iterator<Buffer> = {
    next: () => {
      const value = pending;
      pending = undefined;
      return value ? { value, done: false } : { value: undefined, done: true };
    },
  };
  return { [Symbol.iterator]: () => chunks } as Iterable<Buffer> as unknown as RequestBody;
}

function describeNetworkError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'connection closed by the upstream';
  return message ?? code ?? 'unknown error';
}
