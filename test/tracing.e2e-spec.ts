import OpenAI from 'openai';
import { uniquePrefix } from './support/gateway';
import { eventually } from './support/eventually';
import { RunningMockLlm, startMockLlm } from './support/mock-llm';
import { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver';
import { NodeProcess } from './support/process';
import { freePort } from './support/redis-server';

const GATEWAY = 'dist/apps/gateway/src/main.js';
const API_KEY = 'sk-tracing-do-not-export-me';
const FIRST_PROMPT = 'Remember the word PLUM-PROMPT-ONE';
const SECOND_PROMPT = 'Now say PLUM-PROMPT-TWO';
const INSTRUCTIONS = 'Answer like a SECRET-INSTRUCTIONS pirate';
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

interface Gateway {
  url: string;
  process: NodeProcess;
}

/** The built service as its own process, with exactly the OTEL_* variables given (none inherited). */
async function startGateway(mock: RunningMockLlm, otel: Record<string, string>): Promise<Gateway> {
  const inherited = Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => name.startsWith('OTEL_'))
      .map((name) => [name, undefined]),
  );
  const port = await freePort();
  const child = NodeProcess.start(GATEWAY, {
    ...inherited,
    ...otel,
    PORT: String(port),
    HOST: '127.0.0.1',
    UPSTREAM_BASE_URL: mock.baseUrl,
    REDIS_KEY_PREFIX: uniquePrefix(),
    SPEND_LOG_FLUSH_INTERVAL_MS: '200',
    SHUTDOWN_DELAY_MS: '0',
    LOG_LEVEL: 'info',
  });
  await child.waitFor(/Listening on/, 60_000);
  return { url: `http://127.0.0.1:${port}`, process: child };
}

/** A turn, then a streamed turn chained to it with previous_response_id, through the official SDK. */
async function chainedStreamedTurn(gateway: Gateway) {
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  const first = await client.responses.create({ model: 'mock-gpt', input: FIRST_PROMPT });
  const { data: stream, response } = await client.responses
    .create({
      model: 'mock-gpt',
      input: SECOND_PROMPT,
      instructions: INSTRUCTIONS,
      previous_response_id: first.id,
      stream: true,
    })
    .withResponse();
  let completed: OpenAI.Responses.Response | undefined;
  for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
  if (!completed) throw new Error('the stream ended without response.completed');
  return { first, completed, sessionId: response.headers.get('x-session-id') };
}

/** The service's `request` log lines. */
function requestLines(gateway: Gateway): Array<Record<string, unknown>> {
  return gateway.process.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'request');
}

function textOf(response: OpenAI.Responses.Response): string {
  return response.output
    .flatMap((item) => (item.type === 'message' ? item.content : []))
    .map((part) => (part.type === 'output_text' ? part.text : ''))
    .join('');
}

function only(spans: ReceivedSpan[], description: string, accept: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(accept);
  if (found.length !== 1) {
    const names = spans.map((span) => `${span.name} (${span.spanId} <- ${span.parentSpanId})`).join(', ');
    throw new Error(`expected one ${description}, found ${found.length} among: ${names}`);
  }
  return found[0];
}

function childrenOf(spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
}

describe('OpenTelemetry tracing of the built service', () => {
  let mock: RunningMockLlm;
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    mock = await startMockLlm();
    receiver = await OtlpReceiver.start();
  });
  afterEach(async () => {
    await mock.close();
    await receiver.close();
  });

  it('exports the spans of a streamed, chained turn over OTLP/HTTP, with GenAI attributes and no prompt text', async () => {
    const gateway = await startGateway(mock, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    let turn: Awaited<ReturnType<typeof chainedStreamedTurn>>;
    try {
      turn = await chainedStreamedTurn(gateway);
      // Exported while the service runs, not only at shutdown; the durable write ends with the writer's batch.
      await eventually(
        async () => receiver.spans(),
        (spans) =>
          spans.some(
            (span) =>
              span.name === 'rsc.durable_write' && spans.some((turnSpan) => turnSpan.spanId === span.parentSpanId),
          ) && spans.some((span) => span.attributes['gen_ai.response.id'] === turn.completed.id),
        60_000,
      );
    } finally {
      expect(await gateway.process.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    const { first, completed, sessionId } = turn;
    const spans = receiver.spans();

    // The turn: `chat {model}` under the request's server span, with the GenAI conventions' attributes.
    const turnSpan = only(
      spans,
      'streamed turn span',
      (span) => span.attributes['gen_ai.response.id'] === completed.id,
    );
    expect(turnSpan.name).toBe('chat mock-gpt');
    expect(turnSpan.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'mock-gpt',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': completed.id,
      'gen_ai.response.model': completed.model,
      'gen_ai.usage.input_tokens': completed.usage?.input_tokens,
      'gen_ai.usage.output_tokens': completed.usage?.output_tokens,
      'gen_ai.conversation.id': sessionId,
    });
    expect(completed.usage?.output_tokens).toBeGreaterThan(0);
    expect(turnSpan.service).toBe('responses-session-cache');
    const trace = spans.filter((span) => span.traceId === turnSpan.traceId);
    const server = only(trace, 'server span', (span) => span.spanId === turnSpan.parentSpanId);
    expect(server).toMatchObject({ kind: SERVER, name: 'POST /v1/responses', parentSpanId: undefined });
    expect(server.attributes['http.route']).toBe('/v1/responses');

    // Its phases, each a child of the turn span.
    const phases = childrenOf(trace, turnSpan);
    const history = only(phases, 'history span', (span) => span.name === 'rsc.history');
    expect(history.attributes).toMatchObject({ 'rsc.history.source': 'hit', 'rsc.history.responses.redis': 1 });
    expect(childrenOf(trace, history).some((span) => span.scope.includes('ioredis'))).toBe(true);

    const upstream = only(phases, 'upstream span', (span) => span.name === 'rsc.upstream');
    expect(upstream.attributes['openai.api.type']).toBe('chat_completions');
    const httpClient = only(childrenOf(trace, upstream), 'undici span', (span) => span.scope.includes('undici'));
    expect(httpClient).toMatchObject({ kind: CLIENT, name: 'POST' });
    expect(httpClient.attributes['http.response.status_code']).toBe(200);

    const cacheSave = only(phases, 'cache-save span', (span) => span.name === 'rsc.cache_save');
    expect(cacheSave.attributes).toMatchObject({ 'rsc.cache.saved': true, 'rsc.journal.appended': true });
    const redisCommands = childrenOf(trace, cacheSave).filter((span) => span.scope.includes('ioredis'));
    expect(redisCommands.length).toBeGreaterThan(0);
    for (const command of redisCommands) expect(command.attributes['db.query.text']).toBe(command.name);

    const durableWrite = only(phases, 'durable-write span', (span) => span.name === 'rsc.durable_write');
    expect(durableWrite.attributes['rsc.durable_write.mode']).toBe('batch');
    expect(durableWrite.status).not.toBe(ERROR);

    // The writer's batch: a trace of its own, linked to the turn's durable write, with the INSERT in it.
    const flush = only(spans, 'batch linked to the turn', (span) =>
      span.links.some((link) => link.spanId === durableWrite.spanId && link.traceId === durableWrite.traceId),
    );
    expect(flush).toMatchObject({ name: 'rsc.spend_log_flush', parentSpanId: undefined });
    expect(childrenOf(spans, flush).some((span) => span.scope.includes('pg'))).toBe(true);

    // The first turn (not streamed) has the same shape.
    const firstTurn = only(spans, 'first turn span', (span) => span.attributes['gen_ai.response.id'] === first.id);
    expect(firstTurn.attributes).toMatchObject({
      'gen_ai.request.stream': false,
      'gen_ai.usage.input_tokens': first.usage?.input_tokens,
      'gen_ai.usage.output_tokens': first.usage?.output_tokens,
      'gen_ai.conversation.id': sessionId,
    });
    const firstPhases = childrenOf(spans, firstTurn).map((span) => span.name);
    expect(firstPhases).toEqual(
      expect.arrayContaining(['rsc.history', 'rsc.upstream', 'rsc.cache_save', 'rsc.durable_write']),
    );
    expect(
      only(childrenOf(spans, firstTurn), 'history', (span) => span.name === 'rsc.history').attributes,
    ).toMatchObject({ 'rsc.history.source': 'none' });

    // The upstream got the trace context: the turn's trace, with the HTTP client span as parent.
    const upstreamCalls = await mock.received();
    expect(upstreamCalls).toHaveLength(2);
    expect(upstreamCalls[1].traceparent).toBe(`00-${turnSpan.traceId}-${httpClient.spanId}-01`);

    // The request log line carries the trace id.
    const streamedLine = requestLines(gateway).find((line) => line.stream === true);
    expect(streamedLine).toMatchObject({ route: '/v1/responses', status: 200, trace_id: turnSpan.traceId });

    // Never prompt, instructions or output text, never the API key; nothing but traces sent.
    const payload = receiver.bodies.join('\n');
    for (const secret of [FIRST_PROMPT, SECOND_PROMPT, 'PLUM-PROMPT', 'SECRET-INSTRUCTIONS', API_KEY, 'Bearer']) {
      expect(payload).not.toContain(secret);
    }
    for (const answer of [textOf(first), textOf(completed)]) {
      expect(answer).toContain('PLUM-PROMPT'); // the mock echoes the prompt: the answers are secrets too
      expect(payload).not.toContain(answer);
    }
    expect(receiver.otherRequests).toEqual([]);
  }, 180_000);

  it.each([
    ['no OTEL_* variable is set', {}],
    [
      'OTEL_SDK_DISABLED=true',
      { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'RECEIVER', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    ],
  ])(
    'exports nothing, propagates nothing and logs no trace id when %s',
    async (_case, variables) => {
      const otel = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, value === 'RECEIVER' ? receiver.endpoint : value]),
      );
      const gateway = await startGateway(mock, { ...otel, OTEL_BSP_SCHEDULE_DELAY: '200' });
      try {
        const { completed } = await chainedStreamedTurn(gateway);
        expect(completed.status).toBe('completed');
      } finally {
        expect(await gateway.process.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      }
      expect(receiver.bodies).toEqual([]);
      expect(receiver.otherRequests).toEqual([]);
      for (const call of await mock.received()) expect(call.traceparent).toBeUndefined();
      const lines = requestLines(gateway);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(line).not.toHaveProperty('trace_id');
    },
    180_000,
  );
});
