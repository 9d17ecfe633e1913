import { eventually } from './support/eventually';
import { RunningGateway, startGateway } from './support/gateway';
import { RunningMockLlm, startMockLlm } from './support/mock-llm';
import { OwnRedisServer } from './support/redis-server';
import { runInspect } from './support/inspect';
import { ResponsesBed } from './support/responses-bed';

interface PingBody {
  status: string;
  target: string;
  latency_ms?: number;
  probe?: Record<string, string>;
  failed_step?: string;
  reason?: string;
  hint?: string;
  warnings: string[];
}

async function ping(gateway: RunningGateway): Promise<{ status: number; body: PingBody }> {
  const response = await fetch(`${gateway.url}/cache/ping`);
  return { status: response.status, body: (await response.json()) as PingBody };
}

/** Waits until the gateway's Redis client has met the failure (it connects in the background). */
async function failingPing(gateway: RunningGateway) {
  return eventually(
    () => ping(gateway),
    (result) => result.status === 503 && result.body.reason !== 'not connected',
  );
}

describe('GET /cache/ping', () => {
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('is healthy with the redacted target, latency and a write/read/delete probe', async () => {
    gateway = await startGateway();
    const result = await ping(gateway);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      status: 'ok',
      target: 'redis://127.0.0.1:6379/0',
      probe: { write: 'ok', read: 'ok', delete: 'ok' },
    });
    expect(result.body.latency_ms).toBeGreaterThan(0);
  });

  it('says "wrong password" with the hint that explains it', async () => {
    const redis = await OwnRedisServer.start([], 's3cret');
    try {
      gateway = await startGateway({ REDIS_URL: `redis://:not-the-pw-42@127.0.0.1:${redis.port}` });
      const result = await failingPing(gateway);
      expect(result.body).toMatchObject({ status: 'error', failed_step: 'connect' });
      expect(result.body.reason).toBe('authentication failed: wrong username or password');
      expect(result.body.hint).toMatch(/rejected user "default".*password from REDIS_URL/);
      expect(result.body.target).toBe(`redis://:***@127.0.0.1:${redis.port}/0`);
      expect(JSON.stringify(result.body)).not.toContain('not-the-pw-42');
    } finally {
      await redis.stop();
    }
  });

  it('explains a REDIS_URL without password that REDIS_PASSWORD would have fixed (warning) and a missing password', async () => {
    const redis = await OwnRedisServer.start([], 's3cret');
    try {
      gateway = await startGateway({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
      const result = await failingPing(gateway);
      expect(result.body.reason).toBe('authentication required: no password was sent');
      expect(result.body.hint).toMatch(/set REDIS_PASSWORD or put it in REDIS_URL/);
      await gateway.close();

      gateway = await startGateway({ REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_PASSWORD: 's3cret' });
      const fixed = await ping(gateway);
      expect(fixed.status).toBe(200);
      expect(fixed.body.warnings).toEqual([
        'REDIS_URL has no password but REDIS_PASSWORD is set: REDIS_PASSWORD is used',
      ]);
    } finally {
      await redis.stop();
    }
  });

  it('says "connection refused" for a stopped Redis, naming where host and port came from', async () => {
    const redis = await OwnRedisServer.start();
    await redis.stop();
    gateway = await startGateway({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PORT: String(redis.port) });
    const result = await failingPing(gateway);
    expect(result.body.reason).toBe('connection refused');
    expect(result.body.hint).toContain(`127.0.0.1:${redis.port} (host from REDIS_URL, port from REDIS_PORT)`);
    expect(result.body.hint).toContain(`REDIS_PORT (${redis.port}) overrides the port in REDIS_URL (6379)`);
  });

  it('says which command an ACL user may not run', async () => {
    const redis = await OwnRedisServer.start();
    const admin = redis.admin();
    try {
      await admin.acl('SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-set');
      gateway = await startGateway({ REDIS_URL: `redis://limited:pw@127.0.0.1:${redis.port}` });
      const result = await ping(gateway);
      expect(result.status).toBe(503);
      expect(result.body).toMatchObject({ status: 'error', failed_step: 'write' });
      expect(result.body.reason).toMatch(/^no permission: .*'set' command/);
      expect(result.body.hint).toMatch(/ACL SETUSER limited/);
    } finally {
      admin.disconnect();
      await redis.stop();
    }
  });
});

describe('stats, metrics, inspection and flush', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  const getJson = async (path: string) =>
    (await (await fetch(`${bed.gateway.url}${path}`)).json()) as Record<string, any>;
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`${bed.gateway.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => pattern.test(candidate));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('move as lookups hit Redis, miss, and fall back to PostgreSQL', async () => {
    const client = bed.client();
    const before = await getJson('/cache/stats');
    const hitsBefore = await metric(/^rsc_history_lookups_total\{outcome="hit"\}/);

    const first = await client.responses.create({ model: 'mock-gpt', input: 'one' });
    await client.responses.create({ model: 'mock-gpt', input: 'two', previous_response_id: first.id });
    const { response: miss } = await client.responses
      .create({ model: 'mock-gpt', input: 'x', previous_response_id: `resp_${'c'.repeat(48)}` })
      .withResponse()
      .catch((error: { headers: Headers }) => ({ response: { headers: error.headers } }));
    expect(miss.headers.get('x-session-cache')).toBe('miss');
    await bed.writer.flush();
    await bed.forgetRedis();
    await client.responses.create({ model: 'mock-gpt', input: 'three', previous_response_id: first.id });

    const after = await getJson('/cache/stats');
    expect(after.history.lookups.hit - before.history.lookups.hit).toBe(1);
    expect(after.history.lookups.miss - before.history.lookups.miss).toBe(1);
    expect(after.history.lookups.db - before.history.lookups.db).toBe(1);
    expect(after.history.responses_by_layer.postgres - before.history.responses_by_layer.postgres).toBe(1);
    expect(after.history.backfilled_responses - before.history.backfilled_responses).toBe(1);
    expect(after.spend_log.rows_written).toBeGreaterThanOrEqual(2);
    expect(after.spend_log).toMatchObject({ failed_flushes: 0, rows_rejected: 0, rows_dropped: 0, at_capacity: null });
    // Every stored response went through the journal; the flushed ones were deleted from it again.
    expect(after.journal.appended - before.journal.appended).toBeGreaterThanOrEqual(3);
    expect(after.journal).toMatchObject({ append_failures: 0, eviction_warning: null });
    expect(after.journal.replica).toEqual(expect.any(String));
    expect(after.redis).toMatchObject({ connected: true, errors: 0 });
    expect(after.redis.latency_ms.p50).toBeGreaterThan(0);
    expect(after.redis.latency_ms.p99).toBeGreaterThanOrEqual(after.redis.latency_ms.p50);
    expect(after.redis.namespace.responses).toBeGreaterThanOrEqual(2);
    expect(after.redis.info.maxmemory_policy).toEqual(expect.any(String));

    expect((await metric(/^rsc_history_lookups_total\{outcome="hit"\}/)) - hitsBefore).toBe(1);
    expect(await metric(/^rsc_history_lookups_total\{outcome="db"\}/)).toBeGreaterThanOrEqual(1);
    expect(await metric(/^rsc_spend_log_rows_written_total /)).toBeGreaterThanOrEqual(2);
    expect(
      await metric(/^rsc_http_request_duration_seconds_count\{method="POST",route="\/v1\/responses",status="200"\}/),
    ).toBeGreaterThanOrEqual(3);
    expect(
      await metric(/^rsc_http_request_duration_seconds_count\{method="POST",route="\/v1\/responses",status="400"\}/),
    ).toBe(1);
    expect(await metric(/^rsc_overhead_seconds_count\{stream="false"\}/)).toBeGreaterThanOrEqual(3);
    expect(
      await metric(/^rsc_upstream_duration_seconds_count\{api="chat",stream="false",outcome="ok"\}/),
    ).toBeGreaterThanOrEqual(3);

    const metricsText = await (await fetch(`${bed.gateway.url}/metrics`)).text();
    expect(metricsText).not.toContain(first.id);
    expect(metricsText).not.toContain('sess_');
  });

  it('records where the history came from in the spend-log row', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'a' });
    const second = await client.responses.create({ model: 'mock-gpt', input: 'b', previous_response_id: first.id });
    await bed.writer.flush();
    expect((await bed.spendLog(first.id))?.history_source).toBe('none');
    expect((await bed.spendLog(second.id))?.history_source).toBe('hit');
  });

  it('shows a live session with TTLs and memory, evicts it from Redis only, and the npm run inspect CLI prints it', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'inspect me' });
    const second = await client.responses.create({
      model: 'mock-gpt',
      input: 'and me',
      previous_response_id: first.id,
    });

    const view = await getJson(`/cache/sessions/${second.id}`);
    expect(view.responses.map((r: { id: string }) => r.id)).toEqual([first.id, second.id]);
    expect(view.ttl_seconds).toBeGreaterThan(0);
    expect(view.memory_bytes).toBeGreaterThan(0);
    expect(view.responses[1]).toMatchObject({ previous_response_id: first.id, status: 'completed', input_items: 1 });
    expect(view.responses[0].content).toBeUndefined();
    // Conversation text of any tenant: only with ADMIN_API_KEY set (see the ADMIN_API_KEY tests).
    expect((await fetch(`${bed.gateway.url}/cache/sessions/${second.id}?content=true`)).status).toBe(403);

    const cli = await runInspect({ REDIS_KEY_PREFIX: bed.prefix }, [second.id, '--content']);
    expect(cli.code).toBe(0);
    expect(cli.output).toContain(first.id);
    expect(cli.output).toContain('inspect me');
    const overview = await runInspect({ REDIS_KEY_PREFIX: bed.prefix }, []);
    expect(overview.code).toBe(0);
    expect(overview.output).toMatch(/responses\s+\d+/);

    const evicted = await fetch(`${bed.gateway.url}/cache/sessions/${first.id}`, { method: 'DELETE' });
    // Two responses, the session's set and its item index.
    expect(await evicted.json()).toEqual({ id: first.id, evicted_keys: 4 });
    expect((await fetch(`${bed.gateway.url}/cache/sessions/${first.id}`)).status).toBe(404);
    await bed.writer.flush();
    await expect(client.responses.retrieve(second.id)).resolves.toMatchObject({ id: second.id });
  });

  it('flushes only its own namespace, never other keys, and never the durable journal', async () => {
    await bed.client().responses.create({ model: 'mock-gpt', input: 'flush me' });
    const isJournal = (key: string) => key.includes(':{j:') || key.endsWith(':journals');
    const outsider = `${bed.prefix}-other:keep`;
    await bed.redis.set(outsider, 'still here');
    try {
      const response = await fetch(`${bed.gateway.url}/cache/flush`, { method: 'POST' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { evicted_keys: number }).evicted_keys).toBeGreaterThan(0);
      const left = await bed.redisKeys();
      expect(left.filter((key) => !isJournal(key))).toEqual([]);
      // The response is not written to PostgreSQL yet: its journal entry must survive a cache flush.
      expect(left.some((key) => key.endsWith(':entries'))).toBe(true);
      expect(await bed.redis.get(outsider)).toBe('still here');
    } finally {
      await bed.redis.del(outsider);
    }
  });
});

describe('ADMIN_API_KEY', () => {
  let gateway: RunningGateway;
  let mock: RunningMockLlm;
  beforeAll(async () => {
    mock = await startMockLlm();
    gateway = await startGateway({ ADMIN_API_KEY: 'ops-secret', UPSTREAM_BASE_URL: mock.baseUrl });
  });
  afterAll(async () => {
    await gateway.close();
    await mock.close();
  });

  it('guards the /cache endpoints but not health or metrics', async () => {
    expect((await fetch(`${gateway.url}/cache/stats`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/cache/stats`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${gateway.url}/cache/flush`, { method: 'POST' })).status).toBe(401);
    expect(
      (await fetch(`${gateway.url}/cache/stats`, { headers: { authorization: 'Bearer ops-secret' } })).status,
    ).toBe(200);
    expect((await fetch(`${gateway.url}/cache/ping`, { headers: { 'x-admin-key': 'ops-secret' } })).status).toBe(200);
    const created = await fetch(`${gateway.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a' },
      body: JSON.stringify({ model: 'mock-gpt', input: 'visible to ops' }),
    });
    const id = ((await created.json()) as { id?: string }).id;
    const content = await fetch(`${gateway.url}/cache/sessions/${id}?content=true`, {
      headers: { authorization: 'Bearer ops-secret' },
    });
    expect(JSON.stringify(await content.json())).toContain('visible to ops');
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  });
});

describe('request logs', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ REDIS_PASSWORD: '', ADMIN_API_KEY: 'admin-key-7' })));
  afterAll(() => bed.close());

  it('carry a request id, durations and the cache outcome, and never a key, password or prompt text', async () => {
    const client = bed.client('sk-super-secret-555');
    const first = await client.responses.create({
      model: 'mock-gpt',
      input: 'PROMPT-TEXT-ALPHA',
      instructions: 'INSTR-BETA',
    });
    const { response: raw } = await client.responses
      .create(
        { model: 'mock-gpt', input: 'PROMPT-TEXT-GAMMA', previous_response_id: first.id },
        { headers: { 'x-request-id': 'req-42' } },
      )
      .withResponse();
    expect(raw.headers.get('x-request-id')).toBe('req-42');
    await fetch(`${bed.gateway.url}/cache/stats`, { headers: { authorization: 'Bearer admin-key-7' } });

    const requestLine = bed.gateway.logs.lines.find((line) => line.message.includes('"request_id":"req-42"'));
    expect(JSON.parse(requestLine?.message ?? '{}')).toMatchObject({
      msg: 'request',
      request_id: 'req-42',
      method: 'POST',
      route: '/v1/responses',
      status: 200,
      cache: 'hit',
      duration_ms: expect.any(Number),
      upstream_ms: expect.any(Number),
      overhead_ms: expect.any(Number),
    });
    const everything = JSON.stringify(bed.gateway.logs.lines);
    for (const secret of [
      'sk-super-secret-555',
      'PROMPT-TEXT-ALPHA',
      'PROMPT-TEXT-GAMMA',
      'INSTR-BETA',
      'admin-key-7',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('carry the same for a streamed turn, once its stream has ended, whose headers are those of any turn', async () => {
    const client = bed.client('sk-stream-777');
    const { data: stream, response: raw } = await client.responses
      .create(
        { model: 'mock-gpt', input: 'PROMPT-STREAM-DELTA', stream: true },
        { headers: { 'x-request-id': 'req-stream-7' } },
      )
      .withResponse();
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(raw.headers.get('x-request-id')).toBe('req-stream-7');
    expect(raw.headers.get('x-session-cache')).toBe('none');
    const sessionId = raw.headers.get('x-session-id');
    expect(sessionId).toMatch(/\S/);

    const requestLine = await eventually(async () =>
      bed.gateway.logs.lines.find((line) => line.message.includes('"request_id":"req-stream-7"')),
    );
    expect(JSON.parse(requestLine?.message ?? '{}')).toMatchObject({
      msg: 'request',
      route: '/v1/responses',
      status: 200,
      stream: true,
      cache: 'none',
      session_id: sessionId,
      duration_ms: expect.any(Number),
      upstream_ms: expect.any(Number),
    });
    expect(JSON.stringify(bed.gateway.logs.lines)).not.toContain('PROMPT-STREAM-DELTA');
  });
});
