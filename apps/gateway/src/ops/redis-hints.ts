import { AppConfig, describeTopology } from '@app/config';
import { dataNodeAclRules } from '@app/redis';

/** The variables that say where Redis is, per topology. */
const ADDRESS_VARIABLES = {
  standalone: 'REDIS_URL, REDIS_HOST and REDIS_PORT',
  cluster: 'REDIS_CLUSTER_NODES',
  sentinel: 'REDIS_SENTINELS and REDIS_SENTINEL_MASTER',
};

/** The configuration advice that explains a Redis failure, in words an operator can act on. */
export function redisHint(reason: string, config: AppConfig): string {
  const { redis } = config;
  const where =
    redis.topology.kind === 'standalone'
      ? `${redis.host}:${redis.port} (host from ${redis.sources.host}, port from ${redis.sources.port})`
      : `the ${describeTopology(redis.topology)}`;
  const warnings = redis.warnings.length > 0 ? ` Configuration warnings: ${redis.warnings.join('; ')}.` : '';
  const user = redis.username ?? 'default';
  if (reason === 'connection refused') {
    return `Nothing accepts connections at ${where}. Check that Redis runs there and that ${ADDRESS_VARIABLES[redis.topology.kind]} point at it.${warnings}`;
  }
  if (reason === 'host not found') {
    return redis.topology.kind === 'standalone'
      ? `The host ${redis.host} (from ${redis.sources.host}) does not resolve.${warnings}`
      : `A host of ${where} does not resolve: check ${ADDRESS_VARIABLES[redis.topology.kind]}.${warnings}`;
  }
  if (reason === 'timeout') {
    return (
      `Redis at ${where} did not answer within ${config.redisCommandTimeoutMs} ms (REDIS_COMMAND_TIMEOUT_MS). ` +
      `Check the network path, the server's load and TLS (REDIS_TLS or rediss://, now ${redis.tls ? 'on' : 'off'})` +
      `${redis.tls ? ': a port that does not speak TLS never answers the handshake' : ''}.${warnings}`
    );
  }
  if (reason.startsWith('authentication failed')) {
    const password = redis.password ? `a password from ${redis.sources.password}` : 'no password';
    return (
      `The server rejected user "${user}" (from ${redis.sources.username}) with ${password}. ` +
      `Check REDIS_PASSWORD / REDIS_USERNAME, or the credentials in REDIS_URL; the individual variables win over the URL.${warnings}`
    );
  }
  if (reason.startsWith('authentication required')) {
    return `The server requires a password but none was sent: set REDIS_PASSWORD or put it in REDIS_URL (redis://:<password>@host:port).${warnings}`;
  }
  if (reason.startsWith('no permission')) {
    return (
      `The ACL user "${user}" may not run a command the service needs. These rules grant exactly what it needs: ` +
      `ACL SETUSER ${user} ${dataNodeAclRules(config.redisKeyPrefix, redis.topology.kind, redis.db)}`
    );
  }
  if (reason === 'not connected') return `The client is not connected to ${where} and is reconnecting.${warnings}`;
  return `Redis at ${where} failed: ${reason}.${warnings}`;
}
