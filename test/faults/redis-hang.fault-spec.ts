import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { Replica, sharedEnv, startReplica } from './support/replica';
import { sendTurn, TurnOutcome } from './support/turns';

const COMMAND_TIMEOUT_MS = 250;
const RATE_PER_SECOND = 60;

interface Measured {
  outcomes: TurnOutcome[];
  millis: number[];
}

/** Open-loop load: a new conversation or a continuation every 1/RATE s, whatever the answers take. */
async function load(url: string, seconds: number, heads: string[]): Promise<Measured> {
  const measured: Measured = { outcomes: [], millis: [] };
  const turns: Array<Promise<void>> = [];
  for (let index = 0; index < seconds * RATE_PER_SECOND; index += 1) {
    const due = performance.now();
    const previous = index % 2 === 0 ? undefined : heads[index % heads.length];
    turns.push(
      sendTurn(url, { input: `turn ${index}`, previous, stream: index % 4 === 1 }).then((outcome) => {
        measured.outcomes.push(outcome);
        measured.millis.push(performance.now() - due);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE_PER_SECOND));
  }
  await Promise.all(turns);
  return measured;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

/**
 * A hung Redis (SIGSTOP): each call costs at most REDIS_COMMAND_TIMEOUT_MS, and after a few failures
 * the circuit breaker skips the cache, so turns keep flowing (history from PostgreSQL, saves written
 * at once) instead of each paying the timeout several times.
 */
describe('Redis hung (SIGSTOP) under load', () => {
  let redis: OwnRedisServer;
  let mock: RunningMockLlm;
  let replica: Replica | undefined;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    mock = await startMockLlm({ latencyMs: 20 });
  });
  afterAll(async () => {
    redis.resume();
    await replica?.process.stop('SIGKILL');
    await mock.close();
    await redis.stop();
  });

  it('keeps serving every turn, with tail latency bounded by the command timeout, then uses Redis again', async () => {
    replica = await startReplica(
      sharedEnv({
        REDIS_URL: redis.url,
        UPSTREAM_BASE_URL: mock.baseUrl,
        REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
        SPEND_LOG_FLUSH_INTERVAL_MS: '200',
      }),
    );
    const { url } = replica;
    const heads: string[] = [];
    for (let index = 0; index < 20; index += 1)
      heads.push((await sendTurn(url, { input: `head ${index}` })).id as string);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the heads reach PostgreSQL too

    const before = await load(url, 3, heads);
    redis.pause();
    const during = await load(url, 10, heads);
    redis.resume();

    const failed = (measured: Measured) => measured.outcomes.filter((outcome) => !outcome.id);
    expect(failed(before)).toEqual([]);
    expect(failed(during)).toEqual([]);
    const [p99Before, p99During] = [p99(before.millis), p99(during.millis)];
    process.stdout.write(`p99 before ${Math.round(p99Before)} ms, during the hang ${Math.round(p99During)} ms\n`);
    // The target is 2 × the timeout + the p99 before; the slack absorbs two shared cores' noise. Without
    // the breaker a continuation paid the timeout up to three times, each pipelined call up to twice.
    expect(p99During).toBeLessThanOrEqual(2 * COMMAND_TIMEOUT_MS + p99Before + 250);

    const stats = (await (await fetch(`${url}/cache/stats`)).json()) as { redis: { skipped: number } };
    expect(stats.redis.skipped).toBeGreaterThan(0);
    // After the hang: the circuit closes and turns are cached again.
    const next = await sendTurn(url, { input: 'after the hang' });
    expect(next.id).toBeDefined();
  });
});
