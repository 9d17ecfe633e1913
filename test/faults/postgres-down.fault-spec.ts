import { eventually } from '../support/eventually';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { Replica, sharedEnv, startReplica, storedInPostgres } from './support/replica';
import { sendTurn, TurnOutcome } from './support/turns';

const BOUND = 40;
/** Inputs of about 8 KB, as agents send them. */
const bulky = (label: string) => `${label} ${'x'.repeat(8_000)}`;

interface Ops {
  status?: string;
  reasons?: string[];
  spend_log?: { at_capacity: string | null; queue_depth: number };
}

async function getJson(url: string): Promise<{ status: number; body: Ops }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Ops };
}

/**
 * PostgreSQL unreachable under load, with a small bound on the writer's queue: the service keeps its
 * promise instead of growing. Stored turns are acknowledged up to the bound (they are cached and
 * journaled), then refused with 503 before the upstream is asked; store: false turns go on; nothing
 * acknowledged is lost when PostgreSQL returns.
 */
describe('PostgreSQL down under load, with a bounded writer', () => {
  let redis: OwnRedisServer;
  let mock: RunningMockLlm;
  let proxy: TcpProxy;
  let replica: Replica | undefined;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    mock = await startMockLlm();
    const database = new URL(process.env.DATABASE_URL as string);
    proxy = await TcpProxy.start(database.hostname, Number(database.port || 5432));
  });
  afterAll(async () => {
    await replica?.process.stop('SIGKILL');
    await proxy.close();
    await mock.close();
    await redis.stop();
  });

  it('refuses stored turns beyond the bound before the upstream, keeps serving, and loses nothing', async () => {
    const database = new URL(process.env.DATABASE_URL as string);
    database.hostname = '127.0.0.1';
    database.port = String(proxy.port);
    replica = await startReplica(
      sharedEnv({
        REDIS_URL: redis.url,
        UPSTREAM_BASE_URL: mock.baseUrl,
        DATABASE_URL: database.toString(),
        SPEND_LOG_FLUSH_INTERVAL_MS: '200',
        SPEND_LOG_MAX_PENDING: String(BOUND),
        NODE_OPTIONS: '--max-old-space-size=96',
      }),
    );
    const url = replica.url;
    expect((await sendTurn(url, { input: 'before the outage' })).status).toBe(200);

    await proxy.cut();
    const upstreamBefore = (await mock.received()).length;
    const outcomes: TurnOutcome[] = [];
    for (let batch = 0; batch < 30; batch += 1) {
      const turns = Array.from({ length: 4 }, (_, index) =>
        sendTurn(url, { input: bulky(`stored ${batch}.${index}`), stream: index % 2 === 0 }),
      );
      outcomes.push(...(await Promise.all(turns)));
    }
    const acknowledged = outcomes.filter((outcome) => outcome.id).map((outcome) => outcome.id as string);
    const refused = outcomes.filter((outcome) => outcome.status === 503);

    expect(acknowledged.length + refused.length).toBe(120);
    expect(acknowledged.length).toBeGreaterThanOrEqual(BOUND - 4);
    expect(acknowledged.length).toBeLessThanOrEqual(BOUND + 4);
    expect(refused[0]).toMatchObject({ error: { code: 'store_unavailable' }, retryAfter: expect.any(String) });
    // Refused turns never reached the upstream: nothing was spent on them.
    expect((await mock.received()).length - upstreamBefore).toBe(acknowledged.length);

    expect(await sendTurn(url, { input: 'not stored', store: false })).toMatchObject({ status: 200 });
    const ready = await getJson(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.reasons?.join(' ')).toContain('SPEND_LOG_MAX_PENDING');
    const stats = await getJson(`${url}/cache/stats`);
    expect(stats.body.spend_log?.at_capacity).toContain('SPEND_LOG_MAX_PENDING');
    expect(stats.body.spend_log?.queue_depth).toBeLessThanOrEqual(2 * BOUND);
    expect(replica.process.child.exitCode).toBeNull();

    await proxy.restore();
    await eventually(
      () => storedInPostgres(acknowledged),
      (count) => count === acknowledged.length,
      90_000,
    );
    await eventually(
      async () => (await getJson(`${url}/health/ready`)).body.status,
      (status) => status === 'ok',
      30_000,
    );
    expect((await sendTurn(url, { input: 'after the outage' })).status).toBe(200);
  });
});
