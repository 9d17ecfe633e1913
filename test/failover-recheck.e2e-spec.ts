import Redis from 'ioredis';
import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisService } from '@app/redis';
import { RunningGateway, startGateway, uniquePrefix } from './support/gateway';
import { RunningMockLlm, startMockLlm } from './support/mock-llm';
import { OwnRedisServer } from './support/redis-server';
import { outcomeOf } from './support/turn-outcome';

/**
 * After a Redis failover, a response replica A acknowledged through the cache may be in no layer for a moment:
 * the old master took it with it, and A's writer writes it to PostgreSQL only once A sees the trouble. Replicas
 * do not see a failover at the same instant (here A sees it 1.5 s after B), and B may not have seen it at all
 * yet, only had Redis fail to answer: a turn continuing that response on B must wait for it, not answer 400
 * `previous_response_not_found` for a response its client was given. On a Redis server of its own (the test
 * pauses it).
 */
describe('A response acknowledged just before a failover, continued on another replica', () => {
  const prefix = uniquePrefix();
  let mock: RunningMockLlm;
  let replicaA: RunningGateway;
  let replicaB: RunningGateway;
  let redis: OwnRedisServer;
  let admin: Redis;

  beforeAll(async () => {
    mock = await startMockLlm();
    redis = await OwnRedisServer.start();
    // Rows wait in the writer's queue until trouble (or a minute) makes it write them.
    const env = {
      UPSTREAM_BASE_URL: mock.baseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      SPEND_LOG_FLUSH_INTERVAL_MS: '60000',
    };
    replicaA = await startGateway(env);
    replicaB = await startGateway(env);
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    await replicaA.close();
    await replicaB.close();
    await mock.close();
    admin.disconnect();
    await redis.stop();
  });

  const clientOf = (replica: RunningGateway) =>
    new OpenAI({ baseURL: `${replica.url}/v1`, apiKey: 'sk-failover', maxRetries: 0 });

  /** The old master is gone with everything it had not replicated: the responses and the journal entries. */
  async function loseEverythingCached(): Promise<void> {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.unlink(...keys);
  }

  /** Continues `previousId` on `replica`: the answer, or the error the client got. */
  const continuing = (replica: RunningGateway, previousId: string) =>
    outcomeOf(
      clientOf(replica).responses.create({ model: 'mock-gpt', input: 'after it', previous_response_id: previousId }),
    );

  /** What a failover does to a replica: its connection closes, and it reconnects (to the new master). */
  async function failoverSeenBy(replica: RunningGateway): Promise<void> {
    const { client } = replica.app.get(RedisService);
    const reconnected = new Promise((resolve) => client.once('ready', resolve));
    client.disconnect(true);
    await reconnected;
  }

  it('is waited for by a replica whose Redis did not answer, though it saw no trouble (first: none before)', async () => {
    const first = await clientOf(replicaA).responses.create({ model: 'mock-gpt', input: 'before the pause' });
    await loseEverythingCached();
    // Redis answers nobody for 2 s (as a node does while it fails over): B's lookup times out.
    const pauser = new Redis(redis.url);
    await pauser.call('CLIENT', 'PAUSE', '2000', 'ALL');
    pauser.disconnect();
    const aSeesItLater = sleep(1_500).then(() => failoverSeenBy(replicaA));

    const second = await continuing(replicaB, first.id);
    await aSeesItLater;
    expect(second).toEqual({ status: 200, text: expect.stringMatching(/^Turn 2:/), cache: 'db' });
  }, 30_000);

  it('is found once the replica that acknowledged it has written it, and the turn goes on', async () => {
    const first = await clientOf(replicaA).responses.create({ model: 'mock-gpt', input: 'before the failover' });
    await loseEverythingCached();
    await failoverSeenBy(replicaB);
    const aSeesItLater = sleep(1_500).then(() => failoverSeenBy(replicaA));

    const second = await continuing(replicaB, first.id);
    await aSeesItLater;
    expect(second).toEqual({ status: 200, text: expect.stringMatching(/^Turn 2:/), cache: 'db' });
  }, 30_000);
});
