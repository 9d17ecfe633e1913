import calculateSlot from 'cluster-key-slot';
import Redis, { Cluster } from 'ioredis';
import { RedisClient } from './redis-client.factory';

/** Keys grouped by Cluster hash slot, so multi-key commands (UNLINK) never span slots. */
export function groupBySlot(keys: string[]): string[][] {
  const groups = new Map<number, string[]>();
  for (const key of keys) {
    const slot = calculateSlot(key);
    const group = groups.get(slot);
    if (group) group.push(key);
    else groups.set(slot, [key]);
  }
  return [...groups.values()];
}

export { calculateSlot };

/**
 * One hash tag per data node, each in a slot that node serves (`<base>` alone for a single node), so a
 * probe key per tag exercises every master of a Cluster. Masters whose slots are not known get none.
 */
export function tagsOnEveryNode(client: RedisClient, base: string): Array<{ tag: string; node: string }> {
  if (!(client instanceof Cluster)) return [{ tag: base, node: 'the server' }];
  const owners = new Map<string, string | undefined>(
    client.nodes('master').map((node) => [addressOf(node), undefined]),
  );
  let pending = owners.size;
  for (let n = 0; pending > 0 && n < MAX_TAG_SEARCH; n += 1) {
    const tag = `${base}:${n}`;
    const owner = client.slots[calculateSlot(`{${tag}}`)]?.[0];
    if (owner !== undefined && owners.has(owner) && owners.get(owner) === undefined) {
      owners.set(owner, tag);
      pending -= 1;
    }
  }
  return [...owners].flatMap(([node, tag]) => (tag === undefined ? [] : [{ tag, node }]));
}

/** With 16384 slots spread over the masters, a few tries per master find one; this only bounds a broken map. */
const MAX_TAG_SEARCH = 100_000;

function addressOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
