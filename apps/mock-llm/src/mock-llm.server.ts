import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatCompletionRequest } from './chat-types';
import { answerFor, historyDigest, MockAnswer } from './mock-answer';
import { directivesIn } from './mock-directives';
import { DEFAULT_MOCK_LLM_OPTIONS, MockLlmOptions } from './mock-llm.options';
import { asChatRequest, responseEvents, responseObject, ResponsesRequest } from './responses-api';

export interface RecordedRequest {
  seq: number;
  path: string;
  authorization?: string;
  /** The W3C trace context the caller propagated, when it did. */
  traceparent?: string;
  /** The request as Chat Completions (a /v1/responses request is translated), to compare histories. */
  body: ChatCompletionRequest;
  /** What arrived at /v1/responses, untranslated. */
  responsesBody?: ResponsesRequest;
  /** Streams: whether the whole answer was sent, or the client closed the connection first. */
  outcome?: 'completed' | 'client_closed' | 'aborted_by_mock';
}

export const MOCK_MODEL = 'mock-gpt';

/** A deterministic OpenAI-compatible upstream (Chat Completions, with and without SSE). */
export function createMockLlm(overrides: Partial<MockLlmOptions> = {}): FastifyInstance {
  const options = { ...DEFAULT_MOCK_LLM_OPTIONS, ...overrides };
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true });
  const recorded: RecordedRequest[] = [];
  let seq = 0;

  /** Numbers and records a request (the newest `recordLimit` are kept). */
  const remember = (
    request: FastifyRequest,
    body: ChatCompletionRequest,
    responsesBody?: ResponsesRequest,
  ): RecordedRequest => {
    seq += 1;
    const record: RecordedRequest = {
      seq,
      path: request.url,
      authorization: request.headers.authorization,
      traceparent: headerValue(request.headers.traceparent),
      body,
      ...(responsesBody ? { responsesBody } : {}),
    };
    recorded.push(record);
    if (recorded.length > options.recordLimit) recorded.shift();
    return record;
  };

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: MOCK_MODEL, object: 'model', created: 0, owned_by: 'mock-llm' }],
  }));
  app.get('/__mock/requests', async () => ({ data: recorded }));
  app.delete('/__mock/requests', async () => {
    recorded.length = 0;
    return { deleted: true };
  });

  app.post<{ Body: ChatCompletionRequest }>('/v1/chat/completions', async (request, reply) => {
    const body = request.body;
    const problem = validate(body);
    if (problem) return reply.status(400).send(errorBody(problem.message, 'invalid_request_error', problem.param));

    const record = remember(request, body);

    const directives = directivesIn(body.messages);
    const latency = options.latencyMs + (directives.latencyMs ?? 0);
    if (latency > 0) await sleep(latency);

    const failStatus =
      directives.status ?? (options.failEvery > 0 && seq % options.failEvery === 0 ? options.failStatus : 0);
    if (failStatus >= 400) {
      const type =
        failStatus === 429 ? 'rate_limit_error' : failStatus >= 500 ? 'server_error' : 'invalid_request_error';
      return reply.status(failStatus).send(errorBody(`Injected failure (HTTP ${failStatus})`, type, null));
    }
    if (directives.abortAfter !== undefined && !body.stream) {
      request.raw.socket.destroy();
      return reply;
    }

    const answer = answerFor(body);
    const id = `chatcmpl-${historyDigest(body.messages)}-${seq}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) return completion(id, created, body, answer);
    record.outcome = await streamCompletion(
      reply,
      id,
      created,
      body,
      answer,
      options.chunkDelayMs,
      directives.abortAfter,
    );
    return reply;
  });

  // Stateless Responses API (what UPSTREAM_API=responses talks to).
  app.post<{ Body: ResponsesRequest }>('/v1/responses', async (request, reply) => {
    const raw = request.body;
    if (typeof raw !== 'object' || raw === null || typeof raw.model !== 'string' || raw.input === undefined) {
      return reply.status(400).send(errorBody('model and input are required', 'invalid_request_error', 'input'));
    }
    if (raw.previous_response_id !== undefined || raw.store !== false) {
      return reply
        .status(400)
        .send(
          errorBody(
            'This mock is stateless: send store=false and no previous_response_id',
            'invalid_request_error',
            null,
          ),
        );
    }
    const body = asChatRequest(raw);
    const record = remember(request, body, raw);

    const directives = directivesIn(body.messages);
    const latency = options.latencyMs + (directives.latencyMs ?? 0);
    if (latency > 0) await sleep(latency);
    if (directives.status !== undefined && directives.status >= 400) {
      return reply
        .status(directives.status)
        .send(errorBody(`Injected failure (HTTP ${directives.status})`, 'server_error', null));
    }
    const answer = answerFor(body);
    const response = responseObject(
      `resp_mock${historyDigest(body.messages)}${seq}`,
      Math.floor(Date.now() / 1000),
      raw,
      answer,
    );
    if (!raw.stream) return response;

    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of responseEvents(response, answer)) {
      reply.raw.write(`event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`);
      if (options.chunkDelayMs > 0) await sleep(options.chunkDelayMs);
    }
    reply.raw.end();
    record.outcome = 'completed';
    return reply;
  });

  return app;
}

function validate(body: ChatCompletionRequest | undefined): { message: string; param: string } | undefined {
  if (typeof body !== 'object' || body === null) return { message: 'Body must be a JSON object', param: 'body' };
  if (typeof body.model !== 'string' || body.model === '') return { message: 'model is required', param: 'model' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { message: 'messages must be a non-empty array', param: 'messages' };
  }
  return undefined;
}

function errorBody(message: string, type: string, param: string | null) {
  return { error: { message, type, param, code: null } };
}

/**
 * `logprobs.content` for these pieces of text, as Chat Completions sends it when `logprobs` is true:
 * one entry per piece, deterministic, with `top_logprobs` alternatives when asked.
 */
function logprobsFor(pieces: string[], request: ChatCompletionRequest) {
  if (request.logprobs !== true) return {};
  const top = typeof request.top_logprobs === 'number' ? request.top_logprobs : 0;
  const entry = (token: string, rank: number) => ({
    token,
    bytes: [...Buffer.from(token)],
    logprob: -0.01 * (rank + 1) * (token.length + 1),
  });
  const content = pieces.map((piece) => ({
    ...entry(piece, 0),
    top_logprobs: Array.from({ length: top }, (_, rank) => entry(rank === 0 ? piece : `${piece}~${rank}`, rank)),
  }));
  return { logprobs: { content, refusal: null } };
}

/** The tier asked for is the tier used (`auto` runs on `default`), as OpenAI reports it. */
function serviceTierFor(request: ChatCompletionRequest) {
  const asked = request.service_tier;
  if (typeof asked !== 'string') return {};
  return { service_tier: asked === 'auto' ? 'default' : asked };
}

function completion(id: string, created: number, request: ChatCompletionRequest, answer: MockAnswer) {
  const text = answer.pieces.join('');
  return {
    id,
    object: 'chat.completion',
    created,
    model: request.model,
    ...serviceTierFor(request),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.toolCalls.length > 0 ? null : text,
          ...(answer.toolCalls.length > 0 ? { tool_calls: answer.toolCalls } : {}),
        },
        ...(answer.toolCalls.length > 0 ? {} : logprobsFor(answer.pieces, request)),
        finish_reason: answer.finishReason,
      },
    ],
    usage: answer.usage,
  };
}

async function streamCompletion(
  reply: FastifyReply,
  id: string,
  created: number,
  request: ChatCompletionRequest,
  answer: MockAnswer,
  chunkDelayMs: number,
  abortAfter: number | undefined,
): Promise<NonNullable<RecordedRequest['outcome']>> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let closed = false;
  raw.on('close', () => (closed = true));

  const base = { id, object: 'chat.completion.chunk', created, model: request.model, ...serviceTierFor(request) };
  const chunks: object[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ];
  for (const piece of answer.pieces) {
    const logprobs = logprobsFor([piece], request);
    chunks.push({ ...base, choices: [{ index: 0, delta: { content: piece }, ...logprobs, finish_reason: null }] });
  }
  answer.toolCalls.forEach((call, index) => {
    const head = { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } };
    chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [head] }, finish_reason: null }] });
    for (const part of call.function.arguments.match(/.{1,16}/gs) ?? []) {
      const delta = { tool_calls: [{ index, function: { arguments: part } }] };
      chunks.push({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
    }
  });
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: answer.finishReason }] });
  if (request.stream_options?.include_usage) chunks.push({ ...base, choices: [], usage: answer.usage });

  for (const [index, chunk] of chunks.entries()) {
    if (closed) return 'client_closed';
    if (abortAfter !== undefined && index >= abortAfter) {
      await sleep(20); // let the chunks already written reach the client first
      raw.destroy();
      return 'aborted_by_mock';
    }
    raw.write(`data: ${JSON.stringify(chunk)}\n\n`);
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
  }
  if (closed) return 'client_closed';
  raw.end('data: [DONE]\n\n');
  return 'completed';
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
