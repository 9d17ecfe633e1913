import type { RedisTopology } from '@app/config';

/**
 * Every command the service sends to a data node (caching, the journal, the probe, the ops endpoints
 * and `npm run inspect`): an ACL user with exactly these, on the key namespace, is enough.
 */
const DATA_COMMANDS = (
  'ping info get set del unlink exists expire ttl hset hget hmget zadd zcard zpopmin zrange zrem ' +
  'sadd srem smembers xadd xdel xlen xrange xtrim scan memory|usage eval evalsha'
).split(' ');
/** What the Cluster client sends to learn the slots (on a connection it names) and to set up replica connections. */
const CLUSTER_COMMANDS = ['cluster|slots', 'cluster|info', 'client|setname', 'readonly', 'readwrite'];

/** The ACL SETUSER rules for the service's user on the data nodes. */
export function dataNodeAclRules(keyPrefix: string, topology: RedisTopology['kind']): string {
  const commands = topology === 'cluster' ? [...DATA_COMMANDS, ...CLUSTER_COMMANDS] : DATA_COMMANDS;
  return `resetkeys ~${keyPrefix}:* resetchannels -@all ${commands.map((name) => `+${name}`).join(' ')}`;
}
