import type { ConnectionOptions } from 'node:tls';
import { AppConfig, RedisTarget } from '@app/config';
import Redis, { Cluster, RedisOptions } from 'ioredis';

/** The client behind RedisService: one node (also behind Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

const CONNECT_TIMEOUT_MS = 2_000;
/** How much longer ioredis waits for a reply than RedisService.attempt does, outside a Cluster (see createRedisClient). */
const COMMAND_TIMEOUT_BACKSTOP_MS = 1_000;
/** Reconnect quickly at first, then every 2 s at most. */
const retryDelay = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000);

/**
 * After a Sentinel failover the old primary answers READONLY while the connection stays open:
 * reconnecting asks the sentinels for the new primary. (On a single node it would only reconnect to
 * the same replica, hiding the READONLY that tells the operator what is wrong.)
 */
const reconnectOnReadOnly = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false);

/** Builds the ioredis client for the configured topology. Not connected yet (`connect()` it). */
export function createRedisClient(config: AppConfig): RedisClient {
  const { redis: target } = config;
  const { topology } = target;
  const common = {
    username: target.username,
    password: target.password,
    tls: target.tls ? tlsOptions(target) : undefined,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: config.redisCommandTimeoutMs,
    maxRetriesPerRequest: 1,
    // CLIENT SETINFO (Redis 7.2+) is one more command an ACL user would need, for nothing.
    disableClientInfo: true,
  } satisfies RedisOptions;
  // Commands issued in the same tick share one write: fewer system calls under load.
  const queueing = { lazyConnect: true, enableAutoPipelining: true, enableOfflineQueue: false };

  if (topology.kind === 'cluster') {
    return new Cluster(topology.nodes, {
      ...queueing,
      redisOptions: common,
      clusterRetryStrategy: retryDelay,
      // Addresses stay names until the socket connects, so TLS checks the certificate against the name.
      dnsLookup: (address, callback) => callback(null, address),
      natMap: Object.keys(topology.natMap).length > 0 ? topology.natMap : undefined,
      // A promoted replica is found from MOVED replies at once; this also catches topology changes without traffic.
      slotsRefreshInterval: 2_000,
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    });
  }
  const base: RedisOptions = {
    ...common,
    ...queueing,
    // Only a backstop: RedisService.attempt enforces REDIS_COMMAND_TIMEOUT_MS itself, after the loop has read
    // what arrived (ioredis's timer, due first, would fail a reply waiting in the socket of a busy loop). Not
    // in a Cluster: there, with the later timer, the client still counted killed masters as live when a flush
    // came (test/topologies/cluster.topology-spec.ts failed 2 runs of 3; 3 of 3 passed without).
    commandTimeout: config.redisCommandTimeoutMs + COMMAND_TIMEOUT_BACKSTOP_MS,
    db: target.db,
    retryStrategy: retryDelay,
  };
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...base,
      sentinels: topology.sentinels,
      name: topology.masterName,
      sentinelUsername: topology.username,
      sentinelPassword: topology.password,
      sentinelTLS: topology.tls ? tlsOptions(target) : undefined,
      enableTLSForSentinelMode: target.tls,
      // Subscribes to +switch-master on the sentinels: a failover is followed at once, not on the next error.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadOnly,
      sentinelRetryStrategy: retryDelay,
    });
  }
  return new Redis({ ...base, host: target.host, port: target.port });
}

function tlsOptions({ tlsSettings: tls }: RedisTarget): ConnectionOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.serverName,
    rejectUnauthorized: tls.verify,
  };
}

/** The nodes that hold data: every Cluster master, else the one client. */
export function dataNodes(client: RedisClient): Redis[] {
  if (!(client instanceof Cluster)) return [client];
  const masters = client.nodes('master');
  // Before the slots are known there is no master to work on: say so rather than do nothing.
  if (masters.length === 0) throw new Error('Connection is closed: no Cluster master is known yet');
  return masters;
}
