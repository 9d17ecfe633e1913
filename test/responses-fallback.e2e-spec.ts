import { freePort, OwnRedisServer } from './support/redis-server';
import { ResponsesBed } from './support/responses-bed';

const userTexts = (messages: Array<{ role: string; content?: unknown }>) =>
  messages.filter((m) => m.role === 'user').map((m) => m.content);

describe('Responses API: history beyond Redis', () => {
  let bed: ResponsesBed;
  // These tests flush the writer themselves: its periodic flush could otherwise write a row a test needs unwritten.
  beforeAll(
    async () =>
      (bed = await ResponsesBed.start({ SESSION_MAX_RESPONSES: '50', SPEND_LOG_FLUSH_INTERVAL_MS: '600000' })),
  );
  afterAll(() => bed.close());

  it('resolves a chain from PostgreSQL when Redis lost it, and back-fills Redis', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'p1' });
    const second = await client.responses.create({ model: 'mock-gpt', input: 'p2', previous_response_id: first.id });
    await bed.writer.flush();
    await bed.forgetRedis();

    const { response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'p3', previous_response_id: second.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('db');
    expect(userTexts(await bed.lastUpstreamMessages())).toEqual(['p1', 'p2', 'p3']);
    expect(await bed.hasCached(first.id)).toBe(true);
    expect(await bed.hasCached(second.id)).toBe(true);

    const { response: again } = await client.responses
      .create({ model: 'mock-gpt', input: 'p3 again', previous_response_id: second.id })
      .withResponse();
    expect(again.headers.get('x-session-cache')).toBe('hit');
  });

  it("serves a chain from the writer's unflushed rows when Redis lost it before the flush", async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'b1' });
    await bed.forgetRedis();
    expect(bed.writer.find(first.id)).toBeDefined();
    const { response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'b2', previous_response_id: first.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('db');
    expect(userTexts(await bed.lastUpstreamMessages())).toEqual(['b1', 'b2']);
  });

  it('sends all 60 turns of a 60-turn chain although Redis keeps 50 per session', async () => {
    const client = bed.client();
    let previous: string | undefined;
    for (let turn = 1; turn <= 60; turn += 1) {
      const response = await client.responses.create({
        model: 'mock-gpt',
        input: `t${turn}`,
        previous_response_id: previous,
      });
      previous = response.id;
    }
    const session = (await bed.redisKeys()).filter(
      (key) => key.includes(previous?.slice(5, 21) ?? '-') && key.includes(':r:'),
    );
    expect(session).toHaveLength(50);
    await bed.writer.flush();

    const { response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 't61', previous_response_id: previous })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('partial');
    const texts = userTexts(await bed.lastUpstreamMessages());
    expect(texts).toHaveLength(61);
    expect(texts[0]).toBe('t1');
    expect(texts[60]).toBe('t61');
  });

  it('answers an unknown previous_response_id with 400 previous_response_not_found', async () => {
    for (const id of ['resp_does_not_exist', `resp_${'0'.repeat(48)}`]) {
      await expect(
        bed.client().responses.create({ model: 'mock-gpt', input: 'x', previous_response_id: id }),
      ).rejects.toMatchObject({
        status: 400,
        error: {
          message: `Previous response with id '${id}' not found.`,
          type: 'invalid_request_error',
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        },
      });
    }
  });
});

describe('Responses API with Redis stopped', () => {
  let redis: OwnRedisServer;
  let bed: ResponsesBed;
  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    bed = await ResponsesBed.start({ REDIS_URL: redis.url });
    await redis.stop();
  });
  afterAll(async () => {
    await bed.close();
    await redis.stop();
  });

  it('creates and continues at once (writer buffer), then from PostgreSQL after the flush, never failing the client', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'r1' });
    const { data: second, response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'r2', previous_response_id: first.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('db');

    const stream = await client.responses.create({
      model: 'mock-gpt',
      input: 'r3',
      previous_response_id: second.id,
      stream: true,
    });
    let third = '';
    for await (const event of stream) if (event.type === 'response.completed') third = event.response.id;
    expect(userTexts(await bed.lastUpstreamMessages())).toEqual(['r1', 'r2', 'r3']);

    await bed.writer.flush();
    expect(bed.writer.stats().queueDepth).toBe(0);
    await client.responses.create({ model: 'mock-gpt', input: 'r4', previous_response_id: third });
    expect(userTexts(await bed.lastUpstreamMessages())).toEqual(['r1', 'r2', 'r3', 'r4']);
    await expect(client.responses.retrieve(first.id)).resolves.toMatchObject({ id: first.id });
    // A deletion Redis cannot take is refused (retryable), so the content cannot come back from the cache later.
    await expect(client.responses.delete(first.id)).rejects.toMatchObject({
      status: 503,
      error: { code: 'cache_unavailable' },
    });
    await expect(client.responses.retrieve(first.id)).resolves.toMatchObject({ id: first.id });

    // Rate-limited, not one line per request: at most one each of "Redis command failed", "Redis keeps failing"
    // (the circuit) and "Redis unavailable" (the reconnection refused; it may come first or not yet).
    const redisWarnings = bed.gateway.logs.matching(/Redis/).filter((line) => line.level === 'warn');
    expect(redisWarnings.length).toBeGreaterThanOrEqual(1);
    expect(redisWarnings.length).toBeLessThanOrEqual(3);
  });
});

describe('Responses API with PostgreSQL unreachable', () => {
  let bed: ResponsesBed;
  beforeAll(async () => {
    const port = await freePort();
    bed = await ResponsesBed.start({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  });
  afterAll(() => bed.close());

  it('keeps chaining from Redis, keeps the rows queued, and answers lookups that need PostgreSQL with a retryable 503', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'd1' });
    const { response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'd2', previous_response_id: first.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('hit');

    await bed.writer.flush();
    expect(bed.writer.stats()).toMatchObject({ queueDepth: 2 });
    expect(bed.writer.stats().failedFlushes).toBeGreaterThanOrEqual(1);

    await expect(client.responses.retrieve(`resp_${'b'.repeat(48)}`)).rejects.toMatchObject({
      status: 503,
      error: { code: 'store_unavailable' },
    });
    await expect(
      client.responses.create({ model: 'mock-gpt', input: 'x', previous_response_id: `resp_${'b'.repeat(48)}` }),
    ).rejects.toMatchObject({ status: 503, error: { code: 'history_unavailable' } });
  });
});
