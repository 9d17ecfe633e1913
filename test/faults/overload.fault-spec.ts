import { Pool } from 'undici';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { Replica, sharedEnv, startReplica } from './support/replica';

const STORM = 3000;

interface Answer {
  status: number;
  retryAfter?: string;
  error?: { type?: string; code?: string | null; message?: string };
}

/** One new-conversation turn through a pool of many connections, as a burst of clients would send it. */
async function turn(pool: Pool, index: number): Promise<Answer> {
  const response = await pool.request({
    method: 'POST',
    path: '/v1/responses',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-overload' },
    body: JSON.stringify({ model: 'mock-gpt', input: `storm ${index}` }),
  });
  const body = (await response.body.json()) as { error?: Answer['error'] };
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    ...(body.error ? { error: body.error } : {}),
  };
}

/**
 * Far more turns at once than the service can serve on this machine: it must refuse the excess at once,
 * in OpenAI's envelope with Retry-After and before asking the upstream, instead of admitting everything
 * and answering everyone seconds late; what it admits completes, the health endpoints keep answering,
 * and once the burst is over every turn is admitted again.
 */
describe('Overload', () => {
  let redis: OwnRedisServer;
  let mock: RunningMockLlm;
  let replica: Replica | undefined;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    mock = await startMockLlm({ latencyMs: 20, recordLimit: STORM * 2 });
  });
  afterAll(async () => {
    await replica?.process.stop('SIGKILL');
    await mock.close();
    await redis.stop();
  });

  it('refuses the excess of a burst with 503 and Retry-After before the upstream, and recovers', async () => {
    // The default limit, as a deployment runs it.
    replica = await startReplica(
      sharedEnv({ REDIS_URL: redis.url, UPSTREAM_BASE_URL: mock.baseUrl, OVERLOAD_QUEUE_TARGET_MS: '50' }),
    );
    const pool = new Pool(replica.url, { connections: 512 });
    try {
      const health: number[] = [];
      let storming = true;
      const probe = (async () => {
        while (storming) {
          health.push((await fetch(`${replica?.url}/health/live`)).status);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const answers = await Promise.all(Array.from({ length: STORM }, (_, index) => turn(pool, index)));
      storming = false;
      await probe;

      const admitted = answers.filter((answer) => answer.status === 200);
      const refused = answers.filter((answer) => answer.status !== 200);
      expect(refused.length).toBeGreaterThan(0);
      expect(admitted.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(answer).toMatchObject({ status: 503, error: { type: 'server_error', code: 'server_overloaded' } });
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect((await mock.received()).length).toBe(admitted.length);
      expect(health.length).toBeGreaterThan(0);
      expect(health.every((status) => status === 200)).toBe(true);

      // The burst is over: turns one after another are all admitted again (after at most a short while).
      let streak = 0;
      const deadline = Date.now() + 60_000;
      while (streak < 20 && Date.now() < deadline) {
        streak = (await turn(pool, -1)).status === 200 ? streak + 1 : 0;
        if (streak === 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(streak).toBe(20);
    } finally {
      await pool.close();
    }
  });
});
