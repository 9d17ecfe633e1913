import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { Dispatcher, request as send } from 'undici';
import { ApiError } from '../common/api-error';
import { Caller, callerOf } from '../responses/caller';
import { upstreamTimeout, upstreamUnreachable } from '../responses/upstream/upstream-error';

/**
 * Headers never forwarded: those of one connection (RFC 9110 §7.6.1), those we set ourselves, what a
 * client could use to pose as someone else to the upstream (addresses, cookies), and `expect` (Node has
 * answered `100 Continue` already).
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'authorization',
  'expect',
  'cookie',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
]);
/** With UPSTREAM_API_KEY every caller is the same upstream account: its organization is not theirs to pick. */
const ACCOUNT_HEADERS = ['openai-organization', 'openai-project'];
/** The upstream's answer headers we do not relay as they are (ours stay ours). */
const NOT_RELAYED = new Set([...NOT_FORWARDED, 'x-request-id', 'set-cookie']);

/**
 * With a shared UPSTREAM_API_KEY only stateless endpoints pass: files, batches, vector stores, fine-tuning
 * and the like would let one caller see another's objects in the shared upstream account.
 */
const STATELESS =
  /^\/v1\/(chat\/completions|completions|embeddings|models(\/[^/]+)?|moderations|audio\/(speech|transcriptions|translations)|images\/(generations|edits|variations)|rerank)(\?|$)/;

/**
 * One base URL for every OpenAI call: any other `/v1/*` request (chat completions, embeddings,
 * models, files, …) goes to the upstream unchanged (method, query, headers, body as a stream) with
 * the same Authorization rule as turns (UPSTREAM_API_KEY, else the caller's key, which is required),
 * and its answer comes back unchanged and unbuffered. A client that goes away aborts the upstream
 * request. Routes of our own (`/v1/responses`, `/v1/conversations`) win over this one. It uses the turns'
 * connection pool to the upstream (one UPSTREAM_MAX_CONNECTIONS bound for both).
 */
export function installPassthrough(fastify: FastifyInstance, config: AppConfig, upstream: Dispatcher): void {
  void fastify.register((scope, _options, done) => {
    // In this scope only: bodies are not parsed, so they can be streamed on as they arrive.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    scope.all('/v1/*', (request, reply) => forward(request, reply, config, upstream));
    done();
  });
}

async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  config: AppConfig,
  dispatcher: Dispatcher,
): Promise<void> {
  let caller: Caller;
  try {
    caller = callerOf(request);
  } catch (error) {
    return sendError(reply, error as ApiError);
  }
  const target = upstreamUrl(config.upstreamBaseUrl, request.url);
  if (target === null) {
    return sendError(reply, ApiError.invalidRequest('The path leaves /v1: it is not passed to the upstream.', 'path'));
  }
  if (config.upstreamApiKey && !STATELESS.test(request.url)) {
    return sendError(
      reply,
      ApiError.notFound(
        `${request.method} ${request.url.split('?')[0]} is not passed through: with UPSTREAM_API_KEY every caller shares one upstream account, so only stateless endpoints are.`,
      ),
    );
  }
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const timer = setTimeout(() => abort.abort(new Error('timeout')), config.upstreamTimeoutMs).unref();
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await send(target, {
      method: request.method,
      headers: {
        ...forwardedHeaders(request.headers, config.upstreamApiKey !== undefined),
        authorization: config.upstreamApiKey ? `Bearer ${config.upstreamApiKey}` : caller.authorization,
      },
      body: hasBody(request) ? request.raw : undefined,
      dispatcher,
      signal: abort.signal,
      headersTimeout: config.upstreamTimeoutMs,
      bodyTimeout: config.upstreamTimeoutMs,
    });
  } catch (error) {
    clearTimeout(timer);
    if (reply.raw.destroyed) return;
    const timedOut = abort.signal.reason instanceof Error && abort.signal.reason.message === 'timeout';
    return sendError(
      reply,
      timedOut ? upstreamTimeout(config.upstreamTimeoutMs) : upstreamUnreachable(describe(error)),
    );
  }
  // Not counted as upstream time: the body is still streaming when the request is logged, and the
  // service's own-time metric (rsc_overhead_seconds) is about turns.
  upstream.body.once('close', () => clearTimeout(timer));
  void reply.status(upstream.statusCode);
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !NOT_RELAYED.has(name)) void reply.header(name, value);
  }
  const upstreamRequestId = upstream.headers['x-request-id'];
  if (typeof upstreamRequestId === 'string') void reply.header('x-upstream-request-id', upstreamRequestId);
  return reply.send(upstream.body);
}

/**
 * The upstream URL for a `/v1/...` request, or null when dot segments (`..`, also percent-encoded) would
 * take it out of the upstream's base path: the upstream's other endpoints (admin APIs, with
 * UPSTREAM_API_KEY's authority) are not ours to expose.
 */
export function upstreamUrl(base: string, requestUrl: string): string | null {
  const path = requestUrl.split('?')[0] ?? '';
  // Encoded separators could become separators further on: refused rather than interpreted.
  if (/%2f|%5c|\\/i.test(path)) return null;
  const baseUrl = new URL(base);
  const target = new URL(`${baseUrl.href.replace(/\/+$/, '')}${requestUrl.slice('/v1'.length)}`);
  const root = baseUrl.pathname.replace(/\/+$/, '');
  if (target.origin !== baseUrl.origin || !(target.pathname === root || target.pathname.startsWith(`${root}/`))) {
    return null;
  }
  return target.href;
}

function forwardedHeaders(
  headers: FastifyRequest['headers'],
  sharedAccount: boolean,
): Record<string, string | string[]> {
  // Headers the client named in `Connection` are for that connection only.
  const perConnection = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED.has(name) || perConnection.includes(name)) continue;
    if (sharedAccount && ACCOUNT_HEADERS.includes(name)) continue;
    forwarded[name] = value;
  }
  return forwarded;
}

function hasBody(request: FastifyRequest): boolean {
  return request.method !== 'GET' && request.method !== 'HEAD' && request.headers['content-length'] !== '0';
}

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.status(error.getStatus()).send(error.getResponse());
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  return error instanceof Error ? error.message : String(error);
}
