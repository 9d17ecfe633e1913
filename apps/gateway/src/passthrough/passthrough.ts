import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { Agent, Dispatcher, request as send } from 'undici';
import { ApiError } from '../common/api-error';
import { Caller, callerOf } from '../responses/caller';
import { upstreamTimeout, upstreamUnreachable } from '../responses/upstream/upstream-error';

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), and those we set ourselves. */
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
]);

/**
 * One base URL for every OpenAI call: any other `/v1/*` request (chat completions, embeddings,
 * models, files, …) goes to the upstream unchanged (method, query, headers, body as a stream) with
 * the same Authorization rule as turns (UPSTREAM_API_KEY, else the caller's key, which is required),
 * and its answer comes back unchanged and unbuffered. A client that goes away aborts the upstream
 * request. Routes of our own (`/v1/responses`, `/v1/conversations`) win over this one.
 */
export function installPassthrough(fastify: FastifyInstance, config: AppConfig): void {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: config.upstreamMaxConnections || null });
  fastify.addHook('onClose', async () => agent.destroy());
  void fastify.register((scope, _options, done) => {
    // In this scope only: bodies are not parsed, so they can be streamed on as they arrive.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    scope.all('/v1/*', (request, reply) => forward(request, reply, config, agent));
    done();
  });
}

async function forward(request: FastifyRequest, reply: FastifyReply, config: AppConfig, agent: Agent): Promise<void> {
  let caller: Caller;
  try {
    caller = callerOf(request);
  } catch (error) {
    return sendError(reply, error as ApiError);
  }
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const timer = setTimeout(() => abort.abort(new Error('timeout')), config.upstreamTimeoutMs).unref();
  const started = performance.now();
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await send(`${config.upstreamBaseUrl}${request.url.slice('/v1'.length)}`, {
      method: request.method,
      headers: {
        ...forwardedHeaders(request.headers),
        authorization: config.upstreamApiKey ? `Bearer ${config.upstreamApiKey}` : caller.authorization,
      },
      body: hasBody(request) ? request.raw : undefined,
      dispatcher: agent,
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
  request.timing.calledUpstream = true;
  upstream.body.once('close', () => {
    clearTimeout(timer);
    request.timing.upstreamMs += performance.now() - started;
  });
  void reply.status(upstream.statusCode);
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name) && name !== 'content-length') void reply.header(name, value);
  }
  return reply.send(upstream.body);
}

function forwardedHeaders(headers: FastifyRequest['headers']): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name)) forwarded[name] = value;
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
