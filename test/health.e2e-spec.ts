import { eventually } from './support/eventually';
import { freePort, OwnRedisServer } from './support/redis-server';
import { RunningGateway, startGateway } from './support/gateway';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('health endpoints', () => {
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('reports live, and ready with PostgreSQL and Redis up', async () => {
    gateway = await startGateway();
    expect(await getJson(`${gateway.url}/health/live`)).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await getJson(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('starts with Redis stopped, says degraded (not down), logs it once, and recovers when Redis returns', async () => {
    const redis = await OwnRedisServer.start();
    await redis.stop();
    gateway = await startGateway({ REDIS_URL: redis.url });

    const degraded = await getJson(`${gateway.url}/health/ready`);
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      checks: { postgres: { status: 'up' }, redis: { status: 'down', error: 'connection refused', step: 'connect' } },
    });
    // Several reconnect attempts and failed probes later, the outage is still logged only once.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await getJson(`${gateway.url}/health/ready`);
    const warnings = gateway.logs.matching(/Redis unavailable/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain(`127.0.0.1:${redis.port}`);
    expect(warnings[0]?.message).toContain('connection refused');

    await redis.restart();
    const url = gateway.url;
    await eventually(async () => (await getJson(`${url}/health/ready`)).body.status === 'ok');
    expect(gateway.logs.matching(/connection to .* restored/)).toHaveLength(1);
    await gateway.close();
    gateway = undefined;
    await redis.stop();
  });

  it('says degraded (200, it still serves) when PostgreSQL is unreachable, naming the reason', async () => {
    const port = await freePort();
    gateway = await startGateway({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres` });
    const ready = await getJson(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      reasons: [expect.stringContaining('PostgreSQL is unreachable')],
      checks: {
        postgres: { status: 'down', error: `Can't reach database server at 127.0.0.1:${port}` },
        redis: { status: 'up' },
        spend_log: { status: 'ok' },
      },
    });
    expect((await getJson(`${gateway.url}/health/live`)).status).toBe(200);
    expect(gateway.logs.matching(/PostgreSQL unavailable .*retrying/).length).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [
      'without permission to run scripts',
      ['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-@scripting'],
      'no permission',
    ],
    ['that is a read-only replica', ['--replicaof', '127.0.0.1', '1'], 'read-only'],
  ])(
    'says degraded (200) naming the reason when Redis answers PING but works only in part: %s',
    async (_, args, reason) => {
      const redis = await OwnRedisServer.start(args);
      try {
        gateway = await startGateway({ REDIS_URL: redis.url });
        const ready = await getJson(`${gateway.url}/health/ready`);
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({
          status: 'degraded',
          checks: { postgres: { status: 'up' }, redis: { status: 'down', error: expect.stringContaining(reason) } },
        });
        expect((ready.body.reasons as string[])[0]).toContain(reason);
      } finally {
        await gateway?.close();
        gateway = undefined;
        await redis.stop();
      }
    },
  );

  it('answers unknown routes with 404 in the OpenAI error envelope (other /v1 routes go to the upstream)', async () => {
    gateway = await startGateway();
    expect(await getJson(`${gateway.url}/nope`)).toEqual({
      status: 404,
      body: {
        error: { message: 'Cannot GET /nope', type: 'invalid_request_error', param: null, code: 'not_found' },
      },
    });
  });
});
