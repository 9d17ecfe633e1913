import { eventually } from './support/eventually';
import { startGateway } from './support/gateway';
import { ResponsesBed } from './support/responses-bed';

/** One base URL: the rest of the OpenAI API reaches the upstream through the service, unchanged. */
describe('the other /v1 routes, passed through to the upstream', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({}, { chunkDelayMs: 5 })));
  afterAll(() => bed.close());

  it('answers chat completions, streamed and not, and the model list, exactly as the upstream does', async () => {
    const client = bed.client('sk-through');
    const completion = await client.chat.completions.create({
      model: 'mock-gpt',
      messages: [{ role: 'user', content: 'hello through' }],
    });
    expect(completion.choices[0]?.message.content).toMatch(/^Turn 1: you said "hello through"/);
    const sent = (await bed.upstreamRequests()).at(-1);
    expect(sent).toMatchObject({ path: '/v1/chat/completions', authorization: 'Bearer sk-through' });

    const stream = await client.chat.completions.create({
      model: 'mock-gpt',
      messages: [{ role: 'user', content: 'stream through' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toMatch(/^Turn 1: you said "stream through"/);

    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['mock-gpt']);
  });

  it('relays the upstream’s errors unchanged, and needs an API key like every turn', async () => {
    const client = bed.client();
    await expect(
      client.chat.completions.create({
        model: 'mock-gpt',
        messages: [{ role: 'user', content: 'x [[mock:status=429]]' }],
      }),
    ).rejects.toMatchObject({ status: 429 });
    const anonymous = await fetch(`${bed.gateway.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const controller = new AbortController();
    const response = await fetch(`${bed.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-gone' },
      body: JSON.stringify({
        model: 'mock-gpt',
        messages: [{ role: 'user', content: 'a long one '.repeat(40) }],
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    const outcome = await eventually(
      async () =>
        (await bed.upstreamRequests()).filter((request) => request.authorization === 'Bearer sk-gone').at(-1)?.outcome,
      (value) => value !== undefined,
      10_000,
    );
    expect(outcome).toBe('client_closed');
  });

  it('answers 502 in the OpenAI envelope when the upstream is unreachable, and 404 when switched off', async () => {
    const unreachable = await startGateway({ UPSTREAM_BASE_URL: 'http://127.0.0.1:1/v1' });
    const off = await startGateway({ UPSTREAM_BASE_URL: bed.mock.baseUrl, PASSTHROUGH: 'false' });
    try {
      const headers = { authorization: 'Bearer sk-x' };
      const down = await fetch(`${unreachable.url}/v1/models`, { headers });
      expect(down.status).toBe(502);
      expect(((await down.json()) as { error: { message: string } }).error.message).toContain('connection refused');
      expect((await fetch(`${off.url}/v1/models`, { headers })).status).toBe(404);
    } finally {
      await unreachable.close();
      await off.close();
    }
  });

  it('with a shared UPSTREAM_API_KEY passes stateless endpoints only, with that key, and keeps our request id', async () => {
    const shared = await startGateway({ UPSTREAM_BASE_URL: bed.mock.baseUrl, UPSTREAM_API_KEY: 'sk-service' });
    try {
      const headers = {
        authorization: 'Bearer sk-tenant',
        'content-type': 'application/json',
        'x-request-id': 'mine-1',
      };
      const files = await fetch(`${shared.url}/v1/files`, { headers });
      expect(files.status).toBe(404);
      const chat = await fetch(`${shared.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'shared' }] }),
      });
      expect(chat.status).toBe(200);
      expect(chat.headers.get('x-request-id')).toBe('mine-1');
      expect((await bed.upstreamRequests()).at(-1)).toMatchObject({ authorization: 'Bearer sk-service' });
      const escape = await fetch(`${shared.url}/v1/..%2fadmin`, { headers });
      expect(escape.status).toBe(400);
    } finally {
      await shared.close();
    }
  });
});
