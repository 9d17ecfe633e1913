import { Pool } from 'undici';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { Replica, sharedEnv, startReplica } from './support/replica';

const STORM = 3000;
/** Open-loop overload: turns a second, for how long (well past what a replica serves on this machine). */
const SUSTAINED = { rate: 3000, seconds: 4 };
const CONVERSATIONS = 200;

interface Answer {
  status: number;
  id?: string;
  retryAfter?: string;
  error?: { type?: string; code?: string | null; message?: string };
}

/**
 * One turn (a new conversation unless it continues one) through a pool of many connections, as a burst of clients
 * would send it.
 */
async function turn(pool: Pool, index: number, previousResponseId?: string): Promise<Answer> {
  const response = await pool.request({
    method: 'POST',
    path: '/v1/responses',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-overload' },
    body: JSON.stringify({ model: 'mock-gpt', input: `storm ${index}`, previous_response_id: previousResponseId }),
  });
  const body = (await response.body.json()) as { id?: string; error?: Answer['error'] };
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    ...(body.id ? { id: body.id } : {}),
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

  it('under sustained overload sums its refusals in a warning now and then, never a line per refused turn', async () => {
    await replica?.process.stop('SIGKILL');
    // A tight target: turns that waited past it before their upstream call are refused there too (the late bound),
    // not only at arrival, and both kinds must be summed.
    replica = await startReplica(
      sharedEnv({ REDIS_URL: redis.url, UPSTREAM_BASE_URL: mock.baseUrl, OVERLOAD_QUEUE_TARGET_MS: '5' }),
    );
    const pool = new Pool(replica.url, { connections: 512 });
    try {
      // Conversations to continue: a continued turn reads its chain first, so a backlog of them reaches the
      // upstream call late and is refused there as well as at arrival.
      const heads: string[] = [];
      for (let batch = 0; batch < 50 && heads.length < CONVERSATIONS; batch += 1) {
        const started = await Promise.all(Array.from({ length: 20 }, (_, index) => turn(pool, index)));
        heads.push(...started.flatMap((answer) => (answer.id ? [answer.id] : [])));
      }
      expect(heads.length).toBeGreaterThanOrEqual(CONVERSATIONS);
      // Open loop, as clients that do not wait for each other: turns keep coming while the replica is behind.
      const answers: Array<Promise<Answer>> = [];
      const started = Date.now();
      const total = SUSTAINED.rate * SUSTAINED.seconds;
      while (answers.length < total) {
        const due = Math.min(total, Math.floor(((Date.now() - started) * SUSTAINED.rate) / 1000));
        while (answers.length < due) answers.push(turn(pool, answers.length, heads[answers.length % heads.length]));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const statuses = (await Promise.all(answers)).map((answer) => answer.status);
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
      // Ops read refusals as counts: a line per refused turn is a log flood, and more work for a replica already
      // past its capacity (a full `npm run bench` logged over a thousand of them in 30 s of overload).
      expect(replica.process.output).toMatch(/Overloaded: refused \d+ requests/);
      expect(replica.process.output).not.toMatch(/503 server_overloaded/);
    } finally {
      await pool.close();
    }
  });
});
