import type { RedisTopology } from '@app/config';

/**
 * Every command the service sends to a data node (caching, the journal, the probe, the ops endpoints
 * and `npm run inspect`): an ACL user with exactly these, on the key namespace, is enough.
 */
const DATA_COMMANDS = (
  'ping info get set del unlink exists expire pexpire ttl hset hget hmget zadd zcard zpopmin zrange zrem ' +
  'sadd srem smembers xadd xdel xlen xrange xtrim scan memory|usage eval evalsha'
).split(' ');
/** What the Cluster client sends to learn the slots (on a connection it names) and to set up replica connections. */
const CLUSTER_COMMANDS = ['cluster|slots', 'cluster|info', 'client|setname', 'readonly', 'readwrite'];

/** The ACL SETUSER rules for the service's user on the data nodes (`select` only for a database other than 0). */
export function dataNodeAclRules(keyPrefix: string, topology: RedisTopology['kind'], db = 0): string {
  const commands = [
    ...DATA_COMMANDS,
    ...(db !== 0 ? ['select'] : []),
    ...(topology === 'cluster' ? CLUSTER_COMMANDS : []),
  ];
  return `resetkeys ~${keyPrefix}:* resetchannels -@all ${commands.map((name) => `+${name}`).join(' ')}`;
}
