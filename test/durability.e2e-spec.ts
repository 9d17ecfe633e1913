import { eventually } from './support/eventually';
import { freePort, OwnRedisServer } from './support/redis-server';
import { TcpProxy } from './support/tcp-proxy';
import { startGateway, uniquePrefix } from './support/gateway';
import { postRaw, ResponsesBed } from './support/responses-bed';

/** A JSON schema nesting `2 * depth` levels, as JSON text (JSON.stringify itself overflows at 5,000). */
function nested(depth: number): string {
  return '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"string"}' + '}}'.repeat(depth);
}

/** A URL of a port nothing listens on: a Redis or PostgreSQL that is down. */
async function nothingListening(scheme: 'redis' | 'postgresql'): Promise<string> {
  const port = await freePort();
  return scheme === 'redis' ? `redis://127.0.0.1:${port}` : `postgresql://postgres@127.0.0.1:${port}/postgres`;
}

function body(fields: string): string {
  return `{"model":"mock-gpt","input":"deep",${fields}}`;
}

describe('Durability: nothing acknowledged is lost, no history is shortened', () => {
  describe('with Redis and PostgreSQL up', () => {
    let bed: ResponsesBed;
    beforeAll(async () => (bed = await ResponsesBed.start({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' })));
    afterAll(() => bed.close());

    it.each([
      ['tools[0].parameters', `"tools":[{"type":"function","name":"deep","parameters":${nested(2_500)}}]`],
      ['text.format.schema', `"text":{"format":{"type":"json_schema","name":"deep","schema":${nested(2_500)}}}`],
      ['metadata.properties.a', `"metadata":${nested(40)}`],
    ])('refuses a body nested beyond 64 levels under %s with 400, before anything is queued', async (param, fields) => {
      const upstreamBefore = (await bed.upstreamRequests()).length;
      const response = await postRaw(bed.gateway.url, body(fields));
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(response.body.error?.message).toContain('nested more than 64 levels');
      expect((await bed.upstreamRequests()).length).toBe(upstreamBefore);
      expect(bed.writer.stats().queueDepth).toBe(0);
    });

    it('accepts a JSON schema that nests 62 levels deep', async () => {
      const response = await bed.client().responses.create({
        model: 'mock-gpt',
        input: 'fine',
        text: {
          format: { type: 'json_schema', name: 'ok', schema: JSON.parse(nested(29)) as Record<string, unknown> },
        },
      });
      expect(response.status).toBe('completed');
    });

    it('writes the next response after a deeply nested request', async () => {
      expect((await postRaw(bed.gateway.url, body(`"tools":[${nested(2_500)}]`))).status).toBe(400);
      const next = await bed.client().responses.create({ model: 'mock-gpt', input: 'after the deep one' });
      await bed.writer.flush();
      expect(await bed.spendLog(next.id)).toMatchObject({ status: 'completed' });
      expect(bed.writer.stats()).toMatchObject({ queueDepth: 0, rowsRejected: 0 });
    });

    it.each([
      ['PostgreSQL and Redis', false],
      ['PostgreSQL (Redis still holds the newer turns)', true],
    ])(
      'refuses to continue a chain whose ancestor is missing from %s, naming it, instead of shortening the history',
      async (_, keepNewestInRedis) => {
        const client = bed.client();
        const first = await client.responses.create({ model: 'mock-gpt', input: 'one' });
        const second = await client.responses.create({
          model: 'mock-gpt',
          input: 'two',
          previous_response_id: first.id,
        });
        const third = await client.responses.create({
          model: 'mock-gpt',
          input: 'three',
          previous_response_id: second.id,
        });
        await bed.writer.flush();
        // The second turn is lost everywhere (it was never deleted: deleted ones keep their row).
        await bed.pg.query('DELETE FROM responses WHERE id = $1', [second.id]);
        if (keepNewestInRedis) {
          const keys = (await bed.redisKeys()).filter((key) => key.endsWith(`:r:${second.id}`));
          await bed.redis.unlink(...keys);
        } else {
          await bed.forgetRedis();
        }
        const upstreamBefore = (await bed.upstreamRequests()).length;

        const response = await postRaw(
          bed.gateway.url,
          JSON.stringify({ model: 'mock-gpt', input: 'four', previous_response_id: third.id }),
        );
        expect(response.status).toBe(503);
        expect(response.body.error).toMatchObject({ code: 'history_incomplete', param: 'previous_response_id' });
        expect(response.body.error?.message).toContain(second.id);
        expect((await bed.upstreamRequests()).length).toBe(upstreamBefore);
        expect(bed.gateway.logs.matching(new RegExp(`ancestor ${second.id} is in no layer`))).toHaveLength(1);
      },
    );
  });

  describe('two replicas sharing Redis', () => {
    it('a DELETE on one replica wins over the other replica writing the row later (no content comes back)', async () => {
      const prefix = uniquePrefix();
      const holder = await ResponsesBed.start({ REDIS_KEY_PREFIX: prefix, SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
      const other = await startGateway({ REDIS_KEY_PREFIX: prefix, UPSTREAM_BASE_URL: holder.mock.baseUrl });
      try {
        const created = await holder.client().responses.create({ model: 'mock-gpt', input: 'secret to delete' });
        expect(holder.writer.find(created.id)).toBeDefined(); // not written yet, only queued and journaled
        const deleted = await fetch(`${other.url}/v1/responses/${created.id}`, {
          method: 'DELETE',
          headers: { authorization: 'Bearer sk-tenant-a' },
        });
        expect(deleted.status).toBe(200);
        await holder.writer.flush(); // the holder now writes its copy, with the content
        const row = await holder.spendLog(created.id);
        expect(row).toMatchObject({ input: null, output: null });
        expect(row?.deleted_at).toBeInstanceOf(Date);
        await expect(holder.client().responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
      } finally {
        await other.close();
        await holder.close();
      }
    });
  });

  describe('with Redis stopped', () => {
    let bed: ResponsesBed;
    beforeAll(async () => {
      bed = await ResponsesBed.start({
        REDIS_URL: await nothingListening('redis'),
        SPEND_LOG_FLUSH_INTERVAL_MS: '600000',
      });
    });
    afterAll(() => bed.close());

    it('writes a stored response to PostgreSQL before its client sees it, JSON or streamed', async () => {
      const client = bed.client();
      const json = await client.responses.create({ model: 'mock-gpt', input: 'durable' });
      expect(await bed.spendLog(json.id)).toMatchObject({ status: 'completed', store: true });

      const stream = await client.responses.create({ model: 'mock-gpt', input: 'durable stream', stream: true });
      let completedId: string | undefined;
      for await (const event of stream) {
        if (event.type === 'response.completed') {
          completedId = event.response.id;
          // The client holds the completed event: the row is already there.
          expect(await bed.spendLog(completedId)).toMatchObject({ status: 'completed' });
        }
      }
      expect(completedId).toBeDefined();
      expect(bed.writer.stats().queueDepth).toBe(0);
    });
  });

  describe('with neither Redis nor PostgreSQL reachable', () => {
    let bed: ResponsesBed;
    beforeAll(async () => {
      bed = await ResponsesBed.start({
        REDIS_URL: await nothingListening('redis'),
        DATABASE_URL: await nothingListening('postgresql'),
      });
    });
    afterAll(() => bed.close());

    it('does not acknowledge a stored response: 503 store_unavailable with Retry-After', async () => {
      const response = await fetch(`${bed.gateway.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a' },
        body: JSON.stringify({ model: 'mock-gpt', input: 'nowhere to keep it' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
      // An expected failure: one line naming the request, no stack trace.
      const logged = bed.gateway.logs.matching(/^503 store_unavailable/);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        level: 'warn',
        message: expect.stringContaining(response.headers.get('x-request-id') as string),
      });
      expect(logged[0]?.message).not.toMatch(/\n\s+at /);
    });

    it('ends a stored stream with response.failed (server_error, saying why), never response.completed', async () => {
      const stream = await bed.client().responses.create({ model: 'mock-gpt', input: 'stream it', stream: true });
      const types: string[] = [];
      let error: unknown;
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.failed') error = event.response.error;
      }
      expect(types).toContain('response.output_text.delta');
      expect(types).not.toContain('response.completed');
      expect(types[types.length - 1]).toBe('response.failed');
      // A Response's error.code takes OpenAI's values only; the reason is in the message (and the spend log).
      expect(error).toMatchObject({
        code: 'server_error',
        message: expect.stringContaining('could keep the response'),
      });
    });

    it('still serves store: false turns', async () => {
      const response = await bed.client().responses.create({ model: 'mock-gpt', input: 'ephemeral', store: false });
      expect(response.status).toBe('completed');
    });

    it('is not ready, and says why', async () => {
      const ready = await fetch(`${bed.gateway.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons).toContain(
        'neither Redis nor PostgreSQL is reachable: stored responses cannot be kept',
      );
    });
  });
});

describe('Durability: when only the journal can take a stored response', () => {
  it('acknowledges it (durable in the journal) and writes it once PostgreSQL returns', async () => {
    // This Redis refuses scripts (the cache save is one) but takes plain writes (the journal is one).
    const redis = await OwnRedisServer.start(['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-@scripting']);
    const database = new URL(process.env.DATABASE_URL as string);
    const proxy = await TcpProxy.start(database.hostname, Number(database.port || 5432));
    database.hostname = '127.0.0.1';
    database.port = String(proxy.port);
    const bed = await ResponsesBed.start({
      REDIS_URL: redis.url,
      DATABASE_URL: database.toString(),
      SPEND_LOG_FLUSH_INTERVAL_MS: '200',
    });
    try {
      await proxy.cut();
      const response = await bed.client().responses.create({ model: 'mock-gpt', input: 'only the journal' });
      expect(response.status).toBe('completed');
      expect(bed.writer.stats().queueDepth).toBeGreaterThanOrEqual(1);
      const journal = redis.admin();
      const streams = await journal.keys(`${bed.prefix}:{j:*}:entries`);
      const entries = await Promise.all(streams.map((key) => journal.xrange(key, '-', '+')));
      journal.disconnect();
      expect(entries.flat().some(([, fields]) => fields[1]?.includes(response.id))).toBe(true);

      await proxy.restore();
      await eventually(
        async () => (await bed.spendLog(response.id))?.status,
        (status) => status === 'completed',
        30_000,
      );
    } finally {
      await bed.close();
      await proxy.close();
      await redis.stop();
    }
  });
});
