import { setTimeout as sleep } from 'node:timers/promises';
import { Replica, sharedEnv, startReplica } from '../faults/support/replica';
import { ConversationLoad } from '../faults/support/turns';
import { eventually } from '../support/eventually';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { getJson, keysOn } from './support/ops';
import { PacedConversations } from './support/paced-conversations';
import { RedisSentinelGroupUnderTest } from './support/redis-sentinel';
import { aclLogs, createServiceUser, SERVICE_USER } from './support/service-user';

/**
 * A Sentinel group (1 master, 1 replica, 3 sentinels) and two replicas of the service that know only
 * the sentinels and the master's name, turns alternating between them.
 */
describe('Redis Sentinel (1 master, 1 replica, 3 sentinels)', () => {
  let group: RedisSentinelGroupUnderTest;
  let mock: RunningMockLlm;
  let env: Record<string, string>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    group = await RedisSentinelGroupUnderTest.start({ masterName: 'sessions' });
    mock = await startMockLlm({ latencyMs: 2 });
    env = sharedEnv({
      REDIS_URL: '',
      REDIS_SENTINELS: group.sentinels,
      REDIS_SENTINEL_MASTER: 'sessions',
      ...SERVICE_USER,
      UPSTREAM_BASE_URL: mock.baseUrl,
      SESSION_TTL_SECONDS: '600',
    });
    // The service's user has exactly the permissions the README lists, on both data nodes.
    await createServiceUser(group.dataPorts, (port) => group.node(port), env.REDIS_KEY_PREFIX ?? '', 'sentinel');
    replicas.push(await startReplica(env), await startReplica(env));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.process.stop('SIGKILL');
    await mock?.close();
    await group?.stop();
  });

  it('logs the effective topology at start', () => {
    const [replica] = replicas as [Replica];
    expect(replica.process.output).toContain(
      `Redis sentinel (master \\"sessions\\" via ${group.sentinels.split(',').join(', ')})`, // JSON log line
    );
  });

  it('serves chained conversations alternating between replicas, every history from the cache and whole', async () => {
    const load = new ConversationLoad();
    await load.run(
      replicas.map((replica) => replica.url),
      { conversations: 8, turns: 4, streamEvery: 2 },
    );
    expect(load.failures).toEqual([]);
    expect(load.wrongHistories).toEqual([]);
    expect(load.notFromCache).toEqual([]);
    const master = await group.currentMasterPort();
    expect(await keysOn(group.node(master), `${env.REDIS_KEY_PREFIX}:*:s`)).toHaveLength(8);
  });

  it('follows a failover: no turn fails for a client that retries a 503 as the SDKs do, and histories come from the new master within 15 s', async () => {
    const load = new PacedConversations();
    load.start(
      replicas.map((replica) => replica.url),
      { loops: 4, turnsEach: 5, pauseMs: 100 },
    );
    await sleep(2_000);
    const oldMaster = await group.currentMasterPort();
    const failoverAt = Date.now();
    const newMaster = await group.failover();
    await sleep(Math.max(0, failoverAt + 25_000 - Date.now()));
    await load.stop();

    expect(newMaster).not.toBe(oldMaster);
    expect(load.problems()).toEqual([]);
    // Retried (history_incomplete while a lost ancestor waits in a replica's writer queue) only around the failover.
    expect(load.retried.filter((record) => record.sentAt > failoverAt + 15_000)).toEqual([]);
    const late = load.conversationsStartedAfter(failoverAt + 15_000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.flat().filter((record) => record.turn > 1 && record.outcome.cache !== 'hit')).toEqual([]);
    // The sessions of those conversations live on the new master.
    expect((await keysOn(group.node(newMaster), `${env.REDIS_KEY_PREFIX}:*:s`)).length).toBeGreaterThan(10);
    const ready = await eventually(
      () => getJson(`${replicas[1]?.url}/health/ready`),
      (answer) => answer.body.status === 'ok',
      15_000,
    );
    expect(ready.status).toBe(200);
  });

  it('never needed a command beyond the documented ACL rules (ACL LOG is empty on both data nodes)', async () => {
    expect(await aclLogs(group.dataPorts, (port) => group.node(port))).toEqual([[], []]);
  });
});
