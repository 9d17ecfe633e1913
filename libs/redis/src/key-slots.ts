import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
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
 * One hash tag per master that owns slots (`<base>` alone for a single node), each in a slot that master
 * serves, so a probe key per tag exercises every master of a Cluster. Owners come from the slot map, so a
 * master that died but still owns slots (until its replica is promoted) is probed, and fails.
 */
export function tagsOnEveryNode(client: RedisClient, base: string): Array<{ tag: string; node: string }> {
  if (!(client instanceof Cluster)) return [{ tag: base, node: 'the server' }];
  const owners = new Map<string, string | undefined>([...slotOwners(client)].map((owner) => [owner, undefined]));
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

/** Masters that own slots but have no live connection (died, not yet replaced), as `host:port`. */
export function unreachableMasters(client: RedisClient): string[] {
  if (!(client instanceof Cluster)) return [];
  const live = new Set(client.nodes('master').map((node) => `${node.options.host}:${node.options.port}`));
  return [...slotOwners(client)].filter((owner) => !live.has(owner));
}

/** The masters (`host:port`) the client's slot map gives slots to. */
function slotOwners(client: Cluster): Set<string> {
  return new Set(client.slots.flatMap((nodes) => (nodes?.[0] === undefined ? [] : [nodes[0]])));
}
