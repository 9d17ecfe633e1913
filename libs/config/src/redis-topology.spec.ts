import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRedisTarget, resolveRedisTarget } from './redis-target';

const dir = mkdtempSync(join(tmpdir(), 'redis-topology-spec-'));
const pem = join(dir, 'ca.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const notPem = join(dir, 'ca.txt');
writeFileSync(notPem, 'hello');

describe('Redis topology from the environment', () => {
  it('is a single node unless Cluster seeds or sentinels are given', () => {
    expect(resolveRedisTarget({}).topology).toEqual({ kind: 'standalone' });
  });

  it('reads Cluster seeds (host:port, [v6]:port, a bare host on 6379) and a NAT map', () => {
    const target = resolveRedisTarget({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, [::1]:7001,cache.internal',
      REDIS_CLUSTER_NAT_MAP: '10.0.0.1:7000=203.0.113.9:17000',
      REDIS_PASSWORD: 'pw',
    });
    expect(target.topology).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'cache.internal', port: 6379 },
      ],
      natMap: { '10.0.0.1:7000': { host: '203.0.113.9', port: 17000 } },
    });
    expect(target.password).toBe('pw');
  });

  it('takes the credentials from REDIS_URL in Cluster mode without a warning, warns about REDIS_HOST, refuses db 2', () => {
    expect(resolveRedisTarget({ REDIS_URL: 'redis://u:p@cache:6379', REDIS_CLUSTER_NODES: 'a:7000' }).warnings).toEqual(
      [],
    );
    expect(resolveRedisTarget({ REDIS_HOST: 'cache', REDIS_CLUSTER_NODES: 'a:7000' }).warnings).toEqual([
      'REDIS_HOST is not used: the cluster seeds come from REDIS_CLUSTER_NODES',
    ]);
    expect(() => resolveRedisTarget({ REDIS_URL: 'redis://cache:6379/2', REDIS_CLUSTER_NODES: 'a:7000' })).toThrow(
      'REDIS_URL selects database 2, but Redis Cluster has database 0 only',
    );
  });

  it('reads a Sentinel group with its own credentials; the master name is required', () => {
    const target = resolveRedisTarget({
      REDIS_SENTINELS: 's1:26379,s2',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_URL: 'rediss://app:data-secret@ignored:6379/1',
    });
    expect(target.topology).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      username: undefined,
      password: 'sentinel-secret',
      tls: true,
    });
    expect(target.db).toBe(1);
    expect(() => resolveRedisTarget({ REDIS_SENTINELS: 's1:26379' })).toThrow(
      'REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS',
    );
    expect(() => resolveRedisTarget({ REDIS_SENTINEL_MASTER: 'mymaster' })).toThrow(
      'REDIS_SENTINEL_MASTER needs REDIS_SENTINELS',
    );
  });

  it('refuses contradictions and malformed addresses by name', () => {
    expect(() => resolveRedisTarget({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' })).toThrow(
      'REDIS_SENTINELS cannot be combined with REDIS_CLUSTER_NODES',
    );
    expect(() => resolveRedisTarget({ REDIS_CLUSTER_NODES: 'a:99999' })).toThrow(
      'REDIS_CLUSTER_NODES has an invalid address "a:99999"',
    );
    expect(() => resolveRedisTarget({ REDIS_CLUSTER_NAT_MAP: 'a:1=b:2' })).toThrow(
      'REDIS_CLUSTER_NAT_MAP needs REDIS_CLUSTER_NODES',
    );
    expect(() => resolveRedisTarget({ REDIS_URL: 'redis-sentinel://s1:26379/mymaster' })).toThrow(
      'set REDIS_SENTINELS (host:port,...) and REDIS_SENTINEL_MASTER instead',
    );
  });
});

describe('Redis TLS settings', () => {
  it('reads the CA, client certificate and server name when TLS is on', () => {
    const target = resolveRedisTarget({
      REDIS_URL: 'rediss://cache:6380',
      REDIS_TLS_CA_FILE: pem,
      REDIS_TLS_CERT_FILE: pem,
      REDIS_TLS_KEY_FILE: pem,
      REDIS_TLS_SERVERNAME: 'redis.internal',
    });
    expect(target.tlsSettings).toMatchObject({ caFile: pem, serverName: 'redis.internal', verify: true });
    expect(target.tlsSettings.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(describeRedisTarget(target)).toBe(
      `rediss://cache:6380/0 TLS (CA ${pem}, client certificate ${pem}, server name redis.internal)`,
    );
  });

  it('refuses TLS files while TLS is off, a certificate without its key, and unreadable or non-PEM files', () => {
    expect(() => resolveRedisTarget({ REDIS_TLS_CA_FILE: pem })).toThrow(
      'REDIS_TLS_CA_FILE is set but TLS is off: use a rediss:// REDIS_URL or REDIS_TLS=true',
    );
    expect(() => resolveRedisTarget({ REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: pem })).toThrow(
      'REDIS_TLS_KEY_FILE is required too',
    );
    expect(() => resolveRedisTarget({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toThrow(
      `REDIS_TLS_CA_FILE names ${join(dir, 'missing.pem')}, which does not exist`,
    );
    expect(() => resolveRedisTarget({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: notPem })).toThrow(
      'which is not a PEM file',
    );
  });

  it('warns loudly when certificate verification is switched off', () => {
    const target = resolveRedisTarget({ REDIS_URL: 'rediss://cache:6380', REDIS_TLS_INSECURE_SKIP_VERIFY: 'true' });
    expect(target.tlsSettings.verify).toBe(false);
    expect(target.warnings).toEqual([
      "REDIS_TLS_INSECURE_SKIP_VERIFY is on: the server's certificate is not checked (development only)",
    ]);
  });
});

describe('describeRedisTarget for Cluster and Sentinel', () => {
  it('names the topology, the user and TLS, never a password', () => {
    const cluster = describeRedisTarget(
      resolveRedisTarget({ REDIS_URL: 'rediss://app:secret@x:1', REDIS_CLUSTER_NODES: 'a:7000,b:7001' }),
    );
    expect(cluster).toBe('Redis cluster (seeds a:7000, b:7001), user app with password ***, TLS (system CAs)');
    const sentinel = describeRedisTarget(
      resolveRedisTarget({
        REDIS_SENTINELS: 's1:26379',
        REDIS_SENTINEL_MASTER: 'main',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_PASSWORD: 'data-secret',
      }),
    );
    expect(sentinel).toBe(
      'Redis sentinel (master "main" via s1:26379, sentinel user default with password ***), user default with password ***, db 0',
    );
    expect(cluster + sentinel).not.toMatch(/secret/);
  });
});
