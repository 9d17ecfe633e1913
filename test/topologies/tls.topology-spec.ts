import { Replica, sharedEnv, startReplica } from '../faults/support/replica';
import { ConversationLoad } from '../faults/support/turns';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { eventually } from '../support/eventually';
import { OwnRedisServer } from '../support/redis-server';
import { getJson } from './support/ops';
import { generateCertificates, TestCertificates, TlsRedisUnderTest } from './support/redis-tls';

/**
 * Redis over TLS with a private CA (certificates made for this run), one server that also requires
 * client certificates; two replicas of the service each, configured through the REDIS_TLS_* files only
 * (no NODE_EXTRA_CA_CERTS). Misconfigurations are explained in words.
 */
describe('Redis over TLS with a private CA', () => {
  let certificates: TestCertificates;
  let serverAuthOnly: TlsRedisUnderTest;
  let mutualTls: TlsRedisUnderTest;
  let plain: OwnRedisServer;
  let mock: RunningMockLlm;
  let started: Replica[] = [];

  beforeAll(async () => {
    certificates = await generateCertificates();
    serverAuthOnly = await TlsRedisUnderTest.start({ certificates, requireClientCerts: false });
    mutualTls = await TlsRedisUnderTest.start({ certificates, requireClientCerts: true });
    plain = await OwnRedisServer.start();
    mock = await startMockLlm({ latencyMs: 2 });
  });
  afterEach(async () => {
    // Misconfigured replicas keep reconnecting: none outlives its test on the shared cores.
    await Promise.all(started.map((replica) => replica.process.stop('SIGKILL')));
    started = [];
  });
  afterAll(async () => {
    await mock?.close();
    await serverAuthOnly?.stop();
    await mutualTls?.stop();
    await plain?.stop();
    await certificates?.remove();
  });

  async function replicas(count: number, env: Record<string, string>): Promise<Replica[]> {
    const shared = sharedEnv({ UPSTREAM_BASE_URL: mock.baseUrl, ...env });
    const running = await Promise.all(Array.from({ length: count }, () => startReplica(shared)));
    started.push(...running);
    return running;
  }

  async function alternatingTurns(pair: Replica[]): Promise<void> {
    const pings = await Promise.all(pair.map((replica) => getJson(`${replica.url}/cache/ping`)));
    expect(pings.map((ping) => String(ping.body.status))).toEqual(['ok', 'ok']);
    const load = new ConversationLoad();
    await load.run(
      pair.map((replica) => replica.url),
      { conversations: 6, turns: 4, streamEvery: 2 },
    );
    expect(load.failures).toEqual([]);
    expect(load.wrongHistories).toEqual([]);
    expect(load.notFromCache).toEqual([]);
    expect(load.acknowledged).toHaveLength(24);
  }

  it('verifies the server against REDIS_TLS_CA_FILE; two replicas alternate turns from the cache', async () => {
    const pair = await replicas(2, {
      REDIS_URL: `rediss://localhost:${serverAuthOnly.port}`,
      REDIS_TLS_CA_FILE: certificates.caFile,
    });
    expect(pair[0]?.process.output).toContain(
      `rediss://localhost:${serverAuthOnly.port}/0 TLS (CA ${certificates.caFile})`,
    );
    await alternatingTurns(pair);
  });

  it('presents the client certificate a server with tls-auth-clients requires', async () => {
    await alternatingTurns(
      await replicas(2, {
        REDIS_URL: `rediss://127.0.0.1:${mutualTls.port}`,
        REDIS_TLS_CA_FILE: certificates.caFile,
        REDIS_TLS_CERT_FILE: certificates.clientCertFile,
        REDIS_TLS_KEY_FILE: certificates.clientKeyFile,
      }),
    );
  });

  it.each([
    [
      'plain redis:// to a TLS port',
      () => ({ REDIS_URL: `redis://127.0.0.1:${serverAuthOnly.port}` }),
      'if it expects TLS, use a rediss:// REDIS_URL or REDIS_TLS=true',
    ],
    [
      'a CA that did not sign the server certificate',
      () => ({ REDIS_URL: `rediss://127.0.0.1:${serverAuthOnly.port}`, REDIS_TLS_CA_FILE: certificates.otherCaFile }),
      'set REDIS_TLS_CA_FILE to the CA that signed it',
    ],
    [
      'no client certificate where one is required',
      () => ({ REDIS_URL: `rediss://127.0.0.1:${mutualTls.port}`, REDIS_TLS_CA_FILE: certificates.caFile }),
      'set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE',
    ],
    [
      'a server name the certificate does not list',
      () => ({
        REDIS_URL: `rediss://127.0.0.1:${serverAuthOnly.port}`,
        REDIS_TLS_CA_FILE: certificates.caFile,
        REDIS_TLS_SERVERNAME: 'wrong.example',
      }),
      'connect by a name it lists or set REDIS_TLS_SERVERNAME',
    ],
    [
      'TLS to a plain port',
      () => ({ REDIS_URL: `rediss://127.0.0.1:${plain.port}`, REDIS_TLS_CA_FILE: certificates.caFile }),
      'a port that does not speak TLS never answers the handshake',
    ],
  ])('explains %s in /cache/ping and the start-up log', async (_, env, advice) => {
    const [replica] = (await replicas(1, env())) as [Replica];
    const read = () => getJson(`${replica.url}/cache/ping`);
    // The first failure recorded can be a generic one (a command given up as the connection failed); the
    // connection's own error, which carries the advice, comes with its next attempt (seen in CI under load).
    const explains = (answer: Awaited<ReturnType<typeof read>>) =>
      `${answer.body.reason} ${answer.body.hint}`.includes(advice);
    const ping = await eventually(read, explains, 15_000).catch(read);
    expect(ping.status).toBe(503);
    expect(`${ping.body.reason} ${ping.body.hint}`).toContain(advice);
    // The log says it too (the timeout case gives its advice in the ping's hint only).
    if (!advice.includes('never answers')) expect(replica.process.output).toContain(advice);
  });
});
