import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { Replica, sharedEnv, startReplica } from '../faults/support/replica';
import { ConversationLoad } from '../faults/support/turns';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { eventually } from '../support/eventually';
import { runInspect } from '../support/inspect';
import { RedisClusterUnderTest } from './support/redis-cluster';
import { aclLogs, createServiceUser, SERVICE_USER } from './support/service-user';
import { PacedConversations } from './support/paced-conversations';
import { getJson, keysOn, postJson } from './support/ops';

/**
 * A Redis Cluster of 3 masters with a replica each, two replicas of the service configured with
 * REDIS_CLUSTER_NODES and an ACL user limited to the namespace, turns alternating between them.
 */
describe('Redis Cluster (3 masters with replicas)', () => {
  let cluster: RedisClusterUnderTest;
  let mock: RunningMockLlm;
  let env: Record<string, string>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterUnderTest.start({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1500 });
    mock = await startMockLlm({ latencyMs: 2 });
    env = sharedEnv({
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.seeds,
      ...SERVICE_USER,
      UPSTREAM_BASE_URL: mock.baseUrl,
      // Counts below are exact: nothing may expire while the suite runs on a slow machine.
      SESSION_TTL_SECONDS: '600',
    });
    // The service's user has exactly the permissions the README lists, on every node (a replica may be promoted).
    await createServiceUser(cluster.ports, (port) => cluster.node(port), env.REDIS_KEY_PREFIX ?? '', 'cluster');
    replicas.push(await startReplica(env), await startReplica(env));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.process.stop('SIGKILL');
    await mock?.close();
    await cluster?.stop();
  });

  it('logs the effective topology at start, without secrets', () => {
    const [replica] = replicas as [Replica];
    expect(replica.process.output).toContain(
      `Redis cluster (seeds ${cluster.seeds.split(',').join(', ')}), user sessions with password ***`,
    );
    expect(replica.process.output).not.toContain('acl-secret');
  });

  it('answers /cache/ping with a write on every master, every time', async () => {
    const pings = await Promise.all(
      Array.from({ length: 12 }, (_, index) => getJson(`${replicas[index % 2]?.url}/cache/ping`)),
    );
    expect(pings.map((ping) => ping.status)).toEqual(Array(12).fill(200));
  });

  it('serves chained conversations alternating between replicas, every history from the cache and whole', async () => {
    const load = new ConversationLoad();
    await load.run(
      replicas.map((replica) => replica.url),
      { conversations: 24, turns: 4, streamEvery: 2 },
    );
    expect(load.failures).toEqual([]);
    expect(load.wrongHistories).toEqual([]);
    expect(load.notFromCache).toEqual([]);
    expect(load.acknowledged).toHaveLength(96);

    // 24 sessions spread over the slots: every master holds some, and the stats count them all.
    for (const port of await cluster.masterPorts()) {
      expect((await keysOn(cluster.node(port), `${env.REDIS_KEY_PREFIX}:*:s`)).length).toBeGreaterThan(0);
    }
    const stats = await getJson(`${replicas[0]?.url}/cache/stats`);
    expect(stats.body).toMatchObject({ redis: { namespace: { sessions: 24, responses: 96 }, info: { nodes: 3 } } });

    // Any session, wherever its slot, by any of its response ids: the endpoint and the CLI.
    for (const { id } of load.lastTurns()) {
      const view = await getJson(`${replicas[1]?.url}/cache/sessions/${id}`);
      expect(view.body.responses).toHaveLength(4);
    }
    const cli = await runInspect(env, []);
    expect(cli.output).toMatch(/sessions\s+24\n\s+responses\s+96\n/);
    const [sample] = load.lastTurns();
    expect((await runInspect(env, [sample?.id ?? ''])).output).toContain(': 4 responses');
  });

  it('flushes the namespace on every master and nothing else', async () => {
    const seeds = cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }));
    const client = new Cluster(seeds);
    try {
      for (let n = 0; n < 30; n += 1) await client.set(`other-app:{${n}}:key`, 'kept');
      const flushed = await postJson(`${replicas[1]?.url}/cache/flush`);
      expect(flushed.status).toBe(200);
      expect(flushed.body.evicted_keys).toBeGreaterThanOrEqual(96 + 24);
      for (const port of await cluster.masterPorts()) {
        const left = await keysOn(cluster.node(port), `${env.REDIS_KEY_PREFIX}:*`);
        // Only the durable journal stays (it holds responses PostgreSQL may not have yet).
        expect(left.filter((key) => !key.includes(':{j:') && !key.endsWith(':journals'))).toEqual([]);
      }
      for (let n = 0; n < 30; n += 1) expect(await client.get(`other-app:{${n}}:key`)).toBe('kept');
    } finally {
      client.disconnect();
    }
  });

  it('follows a master being killed: no turn fails for a client that retries a 503 as the SDKs do, and histories come from the cache again within 15 s', async () => {
    const load = new PacedConversations();
    load.start(
      replicas.map((replica) => replica.url),
      { loops: 4, turnsEach: 5, pauseMs: 100 },
    );
    await sleep(2_000);
    const [victim] = await cluster.masterPorts();
    const killedAt = Date.now();
    await cluster.kill(victim ?? 0);
    await sleep(25_000);
    await load.stop();

    expect(load.problems()).toEqual([]);
    // Retried (history_incomplete while a lost ancestor waits in a replica's writer queue) only around the kill.
    expect(load.retried.filter((record) => record.sentAt > killedAt + 15_000)).toEqual([]);
    const late = load.conversationsStartedAfter(killedAt + 15_000);
    expect(late.length).toBeGreaterThan(10);
    const notFromCache = late.flat().filter((record) => record.turn > 1 && record.outcome.cache !== 'hit');
    expect(notFromCache).toEqual([]);
    await cluster.waitUntilHealthy();
    const ready = await eventually(
      () => getJson(`${replicas[0]?.url}/health/ready`),
      (answer) => answer.body.status === 'ok',
      15_000,
    );
    expect(ready.status).toBe(200);
  });

  it('never needed a command beyond the documented ACL rules (ACL LOG is empty on every live master)', async () => {
    const masters = await cluster.masterPorts();
    expect(await aclLogs(masters, (port) => cluster.node(port))).toEqual(masters.map(() => []));
  });

  it('says degraded while the cluster cannot serve (2 of 3 masters gone), and every turn still succeeds without the cache', async () => {
    const masters = await cluster.masterPorts();
    for (const port of masters.slice(0, 2)) await cluster.kill(port);
    const degraded = await eventually(
      () => getJson(`${replicas[0]?.url}/health/ready`),
      (answer) => answer.body.status === 'degraded',
      15_000,
    );
    expect(degraded.status).toBe(200);
    expect(degraded.body.checks.redis.status).toBe('down');
    // A flush now would leave the dead masters' keys to come back: it is refused, saying why.
    // Until the client has marked the killed masters (a moment, longer under load) a flush is refused for a
    // timeout or "cluster down" instead: refused all the same, but the reason that names them comes next.
    const names = (answer: Awaited<ReturnType<typeof postJson>>) =>
      answer.status !== 503 || String(answer.body.error?.message).includes('is unreachable');
    const flushOnce = () => postJson(`${replicas[0]?.url}/cache/flush`);
    const flush = await eventually(flushOnce, names, 15_000).catch(flushOnce);
    expect(flush.status).toBe(503);
    expect(flush.body.error.message).toContain('is unreachable: nothing was removed');

    const load = new ConversationLoad();
    await load.run(
      replicas.map((replica) => replica.url),
      { conversations: 4, turns: 3 },
    );
    expect(load.failures).toEqual([]);
    expect(load.wrongHistories).toEqual([]);
    expect(load.acknowledged).toHaveLength(12);
  });
});
