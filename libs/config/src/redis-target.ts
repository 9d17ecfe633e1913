import { ConfigError } from './config-error';
import { booleanFrom, Env, integerFrom, readEnv, redactUrl, urlFrom } from './env-parsers';
import {
  describeTls,
  describeTopology,
  hostPortText,
  RedisTlsSettings,
  RedisTopology,
  resolveRedisTls,
  resolveRedisTopology,
} from './redis-topology';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

type Part = 'host' | 'port' | 'username' | 'password' | 'tls' | 'db';

/** Where each part of the effective Redis target came from. */
export type RedisTargetSources = Record<Part, string>;

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
  db: number;
  /** Single node (host and port above), Cluster seeds or Sentinel group. */
  topology: RedisTopology;
  /** CA, client certificate, server name, verification; used when `tls` is on. */
  tlsSettings: RedisTlsSettings;
  sources: RedisTargetSources;
  /** Contradictions between REDIS_URL and the individual variables, in words. */
  warnings: string[];
}

/**
 * Resolves the Redis connection from the environment with one precedence:
 * the individual variables (REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS)
 * win over the matching part of REDIS_URL, which wins over the default redis://127.0.0.1:6379.
 * Every override of a part REDIS_URL also sets is reported as a warning.
 */
export function resolveRedisTarget(env: Env): RedisTarget {
  if (/^redis-sentinel:/i.test(readEnv(env, 'REDIS_URL') ?? '')) {
    throw new ConfigError(
      'REDIS_URL',
      'cannot name a Sentinel group: set REDIS_SENTINELS (host:port,...) and REDIS_SENTINEL_MASTER instead',
    );
  }
  const urlGiven = readEnv(env, 'REDIS_URL') !== undefined;
  const url = urlFrom(env, 'REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']);
  const urlSource = urlGiven ? 'REDIS_URL' : 'default';
  const fromUrl = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    tls: url.protocol === 'rediss:',
    db: parseDb(url),
  };

  const warnings: string[] = [];
  const sources: RedisTargetSources = {
    host: urlSource,
    port: urlSource,
    username: urlSource,
    password: urlSource,
    tls: urlSource,
    db: urlSource,
  };
  const target: RedisTarget = {
    ...fromUrl,
    topology: { kind: 'standalone' },
    tlsSettings: { verify: true },
    sources,
    warnings,
  };

  const host = readEnv(env, 'REDIS_HOST');
  if (host !== undefined) {
    if (urlGiven && host !== fromUrl.host) {
      warnings.push(`REDIS_HOST (${host}) overrides the host in REDIS_URL (${fromUrl.host})`);
    }
    target.host = host;
    sources.host = 'REDIS_HOST';
  }
  if (readEnv(env, 'REDIS_PORT') !== undefined) {
    const port = integerFrom(env, 'REDIS_PORT', 6379, 1, 65535);
    if (urlGiven && port !== fromUrl.port) {
      warnings.push(`REDIS_PORT (${port}) overrides the port in REDIS_URL (${fromUrl.port})`);
    }
    target.port = port;
    sources.port = 'REDIS_PORT';
  }
  const username = readEnv(env, 'REDIS_USERNAME');
  if (username !== undefined) {
    if (urlGiven && fromUrl.username !== undefined && username !== fromUrl.username) {
      warnings.push(`REDIS_USERNAME (${username}) overrides the user in REDIS_URL (${fromUrl.username})`);
    }
    target.username = username;
    sources.username = 'REDIS_USERNAME';
  }
  const password = env.REDIS_PASSWORD;
  if (password !== undefined && password !== '') {
    if (urlGiven && fromUrl.password === undefined) {
      warnings.push('REDIS_URL has no password but REDIS_PASSWORD is set: REDIS_PASSWORD is used');
    } else if (urlGiven && fromUrl.password !== password) {
      warnings.push('REDIS_PASSWORD overrides the password in REDIS_URL');
    }
    target.password = password;
    sources.password = 'REDIS_PASSWORD';
  }
  const tls = booleanFrom(env, 'REDIS_TLS');
  if (tls !== undefined) {
    if (urlGiven && tls !== fromUrl.tls) {
      warnings.push(`REDIS_TLS (${tls}) overrides the scheme of REDIS_URL (${url.protocol}//)`);
    }
    target.tls = tls;
    sources.tls = 'REDIS_TLS';
  }
  target.topology = resolveRedisTopology(env, target.tls);
  target.tlsSettings = resolveRedisTls(env, target.tls);
  if (target.topology.kind !== 'standalone') {
    // REDIS_URL is the documented place for the credentials and TLS then; its host is simply not used.
    for (const part of ['host', 'port'] as const) {
      if (sources[part] === `REDIS_${part.toUpperCase()}`) {
        warnings.push(
          `REDIS_${part.toUpperCase()} is not used: the ${target.topology.kind === 'cluster' ? 'cluster seeds come from REDIS_CLUSTER_NODES' : 'master is found through REDIS_SENTINELS'}`,
        );
      }
    }
  }
  if (target.topology.kind === 'cluster' && target.db !== 0) {
    throw new ConfigError(sources.db, `selects database ${target.db}, but Redis Cluster has database 0 only`);
  }
  if (target.tls && !target.tlsSettings.verify) {
    warnings.push("REDIS_TLS_INSECURE_SKIP_VERIFY is on: the server's certificate is not checked (development only)");
  }
  return target;
}

/**
 * The effective target, safe to log: a URL with the password redacted for a single node; for a
 * Cluster or Sentinel group the topology, user, database and TLS in words.
 */
export function describeRedisTarget(target: RedisTarget): string {
  const { topology } = target;
  if (topology.kind === 'standalone') {
    const scheme = target.tls ? 'rediss' : 'redis';
    const user = target.username ? encodeURIComponent(target.username) : '';
    const auth = target.password ? `${user}:***@` : user ? `${user}@` : '';
    const url = redactUrl(`${scheme}://${auth}${hostPortText(target)}/${target.db}`);
    return target.tls && hasTlsDetails(target.tlsSettings) ? `${url} ${describeTls(target.tlsSettings)}` : url;
  }
  const user = `user ${target.username ?? 'default'}${target.password ? ' with password ***' : ''}`;
  const db = topology.kind === 'sentinel' ? `, db ${target.db}` : '';
  const tls = target.tls ? `, ${describeTls(target.tlsSettings)}` : '';
  return `Redis ${describeTopology(topology)}, ${user}${db}${tls}`;
}

function hasTlsDetails(tls: RedisTlsSettings): boolean {
  return tls.caFile !== undefined || tls.certFile !== undefined || tls.serverName !== undefined || !tls.verify;
}

function parseDb(url: URL): number {
  const path = url.pathname.replace(/^\//, '');
  if (path === '') return 0;
  if (!/^\d+$/.test(path)) throw new ConfigError('REDIS_URL', `has an invalid database number "${path}"`);
  return Number(path);
}
