import { RedisTopology } from '@app/config';
import { dataNodeAclRules } from '@app/redis';
import type Redis from 'ioredis';

/** The ACL user the replicas run as in the topology tests. */
export const SERVICE_USER = { REDIS_USERNAME: 'sessions', REDIS_PASSWORD: 'acl-secret' };

/** Runs `run` on a client to each port, disconnecting each whatever happens. */
async function onEachNode<T>(
  ports: number[],
  open: (port: number) => Redis,
  run: (node: Redis) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  for (const port of ports) {
    const node = open(port);
    try {
      results.push(await run(node));
    } finally {
      node.disconnect();
    }
  }
  return results;
}

/** Creates the service's user on each node with exactly the rules the README lists. */
export async function createServiceUser(
  ports: number[],
  open: (port: number) => Redis,
  keyPrefix: string,
  topology: RedisTopology['kind'],
): Promise<void> {
  const rules = dataNodeAclRules(keyPrefix, topology).split(' ');
  await onEachNode(ports, open, (node) =>
    node.acl('SETUSER', SERVICE_USER.REDIS_USERNAME, 'on', `>${SERVICE_USER.REDIS_PASSWORD}`, ...rules),
  );
}

/** Every node's ACL LOG (the commands a user was refused), one list per node. */
export function aclLogs(ports: number[], open: (port: number) => Redis): Promise<unknown[]> {
  return onEachNode(ports, open, (node) => node.acl('LOG'));
}
