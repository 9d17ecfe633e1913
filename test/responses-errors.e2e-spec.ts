import { freePort } from './support/redis-server';
import { postRaw, ResponsesBed } from './support/responses-bed';

describe('Responses API: bad input gets a clear 4xx in the OpenAI envelope', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ BODY_LIMIT_BYTES: '4096' })));
  afterAll(() => bed.close());

  it.each([
    ['{}', 'model', /Missing required parameter: 'model'/],
    ['{"model":"m"}', 'input', /Missing required parameter: 'input'/],
    ['{"model":"m","input":42}', 'input', /expected a string or an array/],
    ['{"model":"m","input":[]}', 'input', /at least one item/],
    ['{"model":"m","input":[{"type":"bogus"}]}', 'input[0].type', /not supported/],
    ['{"model":"m","input":[{"role":"wizard","content":"x"}]}', 'input[0].role', /expected one of/],
    ['{"model":"m","input":[{"type":"function_call_output","output":"x"}]}', 'input[0].call_id', /Missing required/],
    ['{"model":"m","input":"x","temperature":3}', 'temperature', /between 0 and 2/],
    ['{"model":"m","input":"x","top_p":"high"}', 'top_p', /expected a number/],
    ['{"model":"m","input":"x","max_output_tokens":0}', 'max_output_tokens', /positive integer/],
    ['{"model":"m","input":"x","store":"yes"}', 'store', /expected a boolean/],
    ['{"model":"m","input":"x","metadata":{"k":1}}', 'metadata.k', /expected a string/],
    ['{"model":"m","input":"x","tools":[{"type":"web_search"}]}', 'tools[0].type', /only function tools/],
    ['{"model":"m","input":"x","tool_choice":{"type":"function","name":"nope"}}', 'tool_choice', /no function named/],
    ['{"model":"m","input":"x","previous_response_id":""}', 'previous_response_id', /non-empty/],
    ['[1,2]', 'body', /JSON object/],
  ])('%s -> 400 naming %s', async (body, param, message) => {
    const response = await postRaw(bed.gateway.url, body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(response.body.error?.message).toMatch(message);
  });

  it('rejects malformed JSON with 400', async () => {
    const response = await postRaw(bed.gateway.url, '{"model": "m", "input": ');
    expect(response.status).toBe(400);
    expect(response.body.error?.type).toBe('invalid_request_error');
  });

  it('rejects an oversized body with 413', async () => {
    const response = await postRaw(bed.gateway.url, JSON.stringify({ model: 'm', input: 'x'.repeat(10_000) }));
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ message: 'Request body is too large.', type: 'invalid_request_error' });
  });

  it('rejects a request without an API key with 401', async () => {
    const response = await fetch(`${bed.gateway.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', input: 'x' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /didn't provide an API key/,
    );
  });

  it('rejects an invalid x-session-id with 400', async () => {
    const response = await postRaw(bed.gateway.url, '{"model":"m","input":"x"}', { 'x-session-id': 'has spaces' });
    expect(response).toMatchObject({ status: 400, body: { error: { param: 'x-session-id' } } });
  });

  it('answers 404 for an unknown response id on GET and DELETE', async () => {
    const client = bed.client();
    await expect(client.responses.retrieve('resp_unknown')).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.delete(`resp_${'a'.repeat(48)}`)).rejects.toMatchObject({ status: 404 });
  });
});

describe('Responses API: upstream failures', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ UPSTREAM_TIMEOUT_MS: '400' })));
  afterAll(() => bed.close());

  it('keeps an upstream 4xx status and message (429 stays 429) and logs the failed response', async () => {
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'slow down [[mock:status=429]]' }),
    ).rejects.toMatchObject({
      status: 429,
      error: { message: 'Injected failure (HTTP 429)', type: 'rate_limit_error' },
    });
    await bed.writer.flush();
    const failed = await bed.pg.query<{ status: string; error: { message: string } }>(
      "SELECT status, error FROM responses WHERE status = 'failed' AND input::text LIKE '%slow down%'",
    );
    expect(failed.rows).toHaveLength(1);
    expect(failed.rows[0]?.error.message).toBe('Injected failure (HTTP 429)');
  });

  it('turns an upstream 5xx into 502', async () => {
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'boom [[mock:status=500]]' }),
    ).rejects.toMatchObject({ status: 502, error: { type: 'upstream_error', code: 'upstream_error' } });
  });

  it('turns an upstream timeout into 504', async () => {
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'wait [[mock:latency=2000]]' }),
    ).rejects.toMatchObject({ status: 504, error: { code: 'upstream_timeout' } });
  });

  it('turns an upstream that drops the connection into 502', async () => {
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'drop [[mock:abort-after=0]]' }),
    ).rejects.toMatchObject({ status: 502 });
  });
});

describe('Responses API: unreachable upstream', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('answers 502 when nothing listens upstream', async () => {
    const port = await freePort();
    const gateway = await (
      await import('./support/gateway')
    ).startGateway({ UPSTREAM_BASE_URL: `http://127.0.0.1:${port}/v1` });
    try {
      const response = await postRaw(gateway.url, '{"model":"m","input":"x"}');
      expect(response.status).toBe(502);
      expect(response.body.error).toMatchObject({
        code: 'upstream_unreachable',
        message: 'Upstream unreachable: connection refused',
      });
    } finally {
      await gateway.close();
    }
  });
});

describe('Responses API: malformed ids are answered without touching a store', () => {
  let gateway: Awaited<ReturnType<typeof import('./support/gateway').startGateway>>;
  beforeAll(async () => {
    // Both stores unreachable: any lookup would answer 503, so a 404/400 proves none was made.
    const [redisPort, postgresPort] = [await freePort(), await freePort()];
    gateway = await (
      await import('./support/gateway')
    ).startGateway({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${postgresPort}/postgres`,
    });
  });
  afterAll(() => gateway.close());

  const request = (method: string, path: string) =>
    fetch(`${gateway.url}${path}`, { method, headers: { authorization: 'Bearer sk-tenant-a' } });

  it.each(['%00', 'resp_%00', `resp_${'a'.repeat(47)}%00`, 'chatcmpl-123', `resp_${'z'.repeat(48)}`, 'x'.repeat(1000)])(
    'GET and DELETE /v1/responses/%s -> 404',
    async (id) => {
      for (const method of ['GET', 'DELETE']) {
        const response = await request(method, `/v1/responses/${id}`);
        expect(response.status).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    },
  );

  it.each(['resp_\u0000', `resp_${'a'.repeat(48)}\u0000`, 'msg_123', 'r'.repeat(100_000)])(
    'previous_response_id %# -> 400 previous_response_not_found',
    async (id) => {
      const response = await postRaw(gateway.url, JSON.stringify({ model: 'm', input: 'x', previous_response_id: id }));
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
      expect(response.body.error?.message.length).toBeLessThan(300);
    },
  );
});
