import { eventually } from '../support/eventually';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { OwnRedisServer } from '../support/redis-server';
import { Replica, sharedEnv, startReplica, storedInPostgres } from './support/replica';
import { ConversationLoad, sendTurn } from './support/turns';

/**
 * SIGKILL under load: every response a client saw complete must reach PostgreSQL once any replica
 * runs again, and every conversation must continue with its whole history after Redis forgot it.
 */
describe('a replica killed under load (SIGKILL)', () => {
  let redis: OwnRedisServer;
  let mock: RunningMockLlm;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    mock = await startMockLlm({ latencyMs: 5 });
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.process.stop('SIGKILL');
    await mock.close();
    await redis.stop();
  });
  const replicaEnv = (env: Record<string, string>) =>
    sharedEnv({ REDIS_URL: redis.url, UPSTREAM_BASE_URL: mock.baseUrl, ...env });

  it('loses no acknowledged stored response, and every chain continues exactly afterwards', async () => {
    const env = replicaEnv({ SPEND_LOG_FLUSH_INTERVAL_MS: '10000' });
    const doomed = await startReplica(env);
    replicas.push(doomed);

    const load = new ConversationLoad();
    const running = load.run([doomed.url], { conversations: 8, turns: 10_000, streamEvery: 2 });
    await eventually(
      async () => load.acknowledged.length,
      (count) => count >= 250,
      60_000,
    );
    doomed.process.child.kill('SIGKILL');
    await running;

    const acknowledged = load.acknowledged.map(({ id }) => id);
    expect(load.wrongHistories).toEqual([]);
    // The crash really left acknowledged responses unwritten (the writer batches every 10 s).
    expect(await storedInPostgres(acknowledged)).toBeLessThan(acknowledged.length);

    const survivor = await startReplica(env);
    replicas.push(survivor);
    await eventually(
      () => storedInPostgres(acknowledged),
      (count) => count === acknowledged.length,
      60_000,
    );
    expect(survivor.process.output).toMatch(/Recovered the journal of \S+: [1-9]\d* responses were missing/);

    // Redis forgets everything: each conversation's history now comes from PostgreSQL alone.
    const admin = redis.admin();
    await admin.flushall();
    admin.disconnect();
    const continued: string[] = [];
    for (const last of load.lastTurns()) {
      const next = await sendTurn(survivor.url, { input: 'and then?', previous: last.id });
      const expected = `Turn ${last.turn + 1}:`;
      if (next.status !== 200 || !next.text?.startsWith(expected)) {
        continued.push(
          `${last.id}: expected 200 "${expected}", got ${next.status} ${next.text ?? JSON.stringify(next.error)}`,
        );
      }
    }
    expect(continued).toEqual([]);
  });

  it('recovers at once when the killed replica is restarted in its place (same host and port)', async () => {
    // Heartbeats that would take 10 minutes to lapse: only the predecessor rule can recover in time.
    const env = replicaEnv({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000', JOURNAL_ORPHAN_AFTER_MS: '600000' });
    const doomed = await startReplica(env);
    replicas.push(doomed);
    const load = new ConversationLoad();
    await load.run([doomed.url], { conversations: 4, turns: 5, streamEvery: 2 });
    expect(load.acknowledged).toHaveLength(20);
    doomed.process.child.kill('SIGKILL');
    await doomed.process.exited();
    const acknowledged = load.acknowledged.map(({ id }) => id);
    expect(await storedInPostgres(acknowledged)).toBe(0);

    const restarted = await startReplica(env, doomed.port);
    replicas.push(restarted);
    await eventually(
      () => storedInPostgres(acknowledged),
      (count) => count === acknowledged.length,
      60_000,
    );
  });
});
