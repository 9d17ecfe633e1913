import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { Replica, sharedEnv, startReplica, storedInPostgres } from './support/replica';
import { ConversationLoad, sendTurn } from './support/turns';

/**
 * Redis gone, two replicas behind one load balancer: a turn continued at once on the other replica
 * must find its whole history (the stored response reached PostgreSQL before its client saw it).
 */
describe('two replicas with Redis stopped', () => {
  let redis: OwnRedisServer;
  let mock: RunningMockLlm;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    await redis.stop();
    mock = await startMockLlm({ latencyMs: 2 });
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.process.stop('SIGKILL');
    await mock.close();
  });

  it('continues every turn at once on the other replica, with the exact history', async () => {
    const env = sharedEnv({
      REDIS_URL: redis.url,
      UPSTREAM_BASE_URL: mock.baseUrl,
      SPEND_LOG_FLUSH_INTERVAL_MS: '10000',
    });
    replicas.push(await startReplica(env), await startReplica(env));

    const load = new ConversationLoad();
    await load.run(
      replicas.map((replica) => replica.url),
      { conversations: 8, turns: 5, streamEvery: 2 },
    );

    expect(load.failures).toEqual([]);
    expect(load.wrongHistories).toEqual([]);
    expect(load.acknowledged).toHaveLength(40);
    expect(await storedInPostgres(load.acknowledged.map(({ id }) => id))).toBe(40);
  });

  it('still answers store: false turns, which need no storage', async () => {
    const [replica] = replicas as [Replica];
    const outcome = await sendTurn(replica.url, { input: 'ephemeral', store: false });
    expect(outcome).toMatchObject({ status: 200, text: expect.stringMatching(/^Turn 1:/) });
  });
});
