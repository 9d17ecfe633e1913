import { dataNodes, groupBySlot, RedisClient, unreachableMasters } from '@app/redis';
import type Redis from 'ioredis';
import { CacheKeys } from './cache-keys';
import { sessionTag, tagOfResponseId } from './ids';
import { StoredResponse } from './stored-response';

export interface NamespaceOverview {
  prefix: string;
  sessions: number;
  responses: number;
  other: number;
  /** SCAN stopped at the bound: the counts are lower limits. */
  truncated: boolean;
  ttl_seconds: Record<'up_to_10' | 'up_to_30' | 'up_to_60' | 'up_to_300' | 'longer' | 'none', number>;
  memory: { sampled_keys: number; estimated_bytes: number };
}

export interface CachedResponseSummary {
  id: string;
  previous_response_id: string | null;
  model: string;
  status: string;
  created_at: string;
  ttl_seconds: number;
  memory_bytes: number | null;
  input_items: number;
  output_items: number;
  total_tokens: number;
  content?: Pick<StoredResponse, 'instructions' | 'input' | 'output'>;
}

export interface SessionView {
  session_id: string | null;
  tag: string;
  ttl_seconds: number;
  memory_bytes: number;
  responses: CachedResponseSummary[];
}

export interface RedisInfoFigures {
  used_memory_bytes: number | null;
  used_memory_peak_bytes: number | null;
  maxmemory_bytes: number | null;
  maxmemory_policy: string | null;
  keyspace_hits: number | null;
  keyspace_misses: number | null;
  evicted_keys: number | null;
  /** How many nodes the figures add up (every master of a Cluster). */
  nodes: number;
  warnings: string[];
}

const SCAN_BATCH = 1000;
const TTL_SAMPLE = 1000;
const MEMORY_SAMPLE = 200;

/**
 * Reads (and, for evictions, changes) what this service keeps in Redis, with SCAN and UNLINK
 * only: never KEYS, never FLUSHALL, never anything outside the namespace. On a Cluster it scans
 * every master and unlinks slot by slot. Shared by the /cache endpoints and `npm run inspect`.
 */
export class CacheInspector {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: CacheKeys,
  ) {}

  /** Key counts by kind, TTL spread and memory of the namespace, scanning at most `maxKeys` keys. */
  async overview(maxKeys = 100_000): Promise<NamespaceOverview> {
    const perNode = new Map<Redis, string[]>();
    let scanned = 0;
    for (const node of dataNodes(this.redis)) {
      if (scanned > maxKeys) break;
      const found = await scan(node, this.keys.everything, maxKeys + 1 - scanned);
      perNode.set(node, found);
      scanned += found.length;
    }
    const truncated = scanned > maxKeys;
    const counted = [...perNode.values()].flat().slice(0, maxKeys);
    const overview: NamespaceOverview = {
      prefix: this.keys.prefix,
      sessions: counted.filter((key) => key.endsWith(':s')).length,
      responses: counted.filter((key) => key.includes(':r:')).length,
      other: 0,
      truncated,
      ttl_seconds: { up_to_10: 0, up_to_30: 0, up_to_60: 0, up_to_300: 0, longer: 0, none: 0 },
      memory: { sampled_keys: 0, estimated_bytes: 0 },
    };
    overview.other = counted.length - overview.sessions - overview.responses;

    // Samples spread over the nodes in proportion to their keys, each read on the node that holds it.
    const ttls: unknown[] = [];
    const sizes: number[] = [];
    for (const [node, keys] of perNode) {
      const share = (sample: number) => keys.slice(0, Math.ceil((sample * keys.length) / Math.max(scanned, 1)));
      ttls.push(...(await pipelined(node, share(TTL_SAMPLE), (pipeline, key) => pipeline.ttl(key))));
      const memory = await pipelined(node, share(MEMORY_SAMPLE), (pipeline, key) => pipeline.memory('USAGE', key));
      sizes.push(...memory.map(Number));
    }
    for (const ttl of ttls) overview.ttl_seconds[ttlBucket(Number(ttl))] += 1;

    const known = sizes.filter((size) => Number.isFinite(size) && size > 0);
    overview.memory.sampled_keys = known.length;
    overview.memory.estimated_bytes =
      known.length === 0 ? 0 : Math.round((known.reduce((sum, size) => sum + size, 0) / known.length) * counted.length);
    return overview;
  }

  /** A session's cached responses, by its tag (see `sessionTagOf`). */
  async session(tag: string, withContent = false): Promise<SessionView | null> {
    const sessionKey = this.keys.session(tag);
    const ids = await this.redis.zrange(sessionKey, 0, -1);
    if (ids.length === 0) return null;
    const responseKeys = ids.map((responseId) => this.keys.response(tag, responseId));
    const pipeline = this.redis.pipeline();
    pipeline.ttl(sessionKey);
    pipeline.memory('USAGE', sessionKey);
    for (const key of responseKeys) pipeline.hget(key, 'd').ttl(key).memory('USAGE', key);
    const results = ((await pipeline.exec()) ?? []).map(([error, value]) => (error ? null : value));

    const view: SessionView = {
      session_id: null,
      tag,
      ttl_seconds: Number(results[0]),
      memory_bytes: Number(results[1] ?? 0),
      responses: [],
    };
    responseKeys.forEach((_, index) => {
      const [json, ttl, memory] = results.slice(2 + index * 3, 5 + index * 3);
      if (typeof json !== 'string') return;
      const response = JSON.parse(json) as StoredResponse;
      view.session_id = response.sessionId;
      view.memory_bytes += Number(memory ?? 0);
      view.responses.push(summarize(response, Number(ttl), memory === null ? null : Number(memory), withContent));
    });
    return view;
  }

  /** Removes a session from Redis (PostgreSQL keeps it). Resolves how many keys were removed. */
  async evictSession(tag: string): Promise<number> {
    return this.unlinkAll(this.keys.sessionPattern(tag));
  }

  /**
   * Removes every cache key of the namespace, in SCAN batches; the durable journal stays (it holds
   * acknowledged responses PostgreSQL does not have yet). Resolves how many keys were removed.
   */
  async flush(): Promise<number> {
    return this.unlinkAll(this.keys.everything, (key) => !this.keys.isJournal(key));
  }

  /**
   * The INFO figures that matter to this service, with warnings about risky settings; on a Cluster,
   * counts and memory are summed over the masters and a policy is reported if any master has it.
   */
  async info(): Promise<RedisInfoFigures> {
    const nodes = await Promise.all(dataNodes(this.redis).map(async (node) => infoFields(await node.info())));
    const number = (name: string) => {
      const values = nodes.filter((fields) => fields.has(name)).map((fields) => Number(fields.get(name)));
      return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0);
    };
    const policies = [...new Set(nodes.map((fields) => fields.get('maxmemory_policy')).filter(isDefined))];
    const policy = policies.find((name) => /^(allkeys|volatile)-/.test(name)) ?? policies[0] ?? null;
    const maxmemory = number('maxmemory');
    const warnings: string[] = [];
    if (policies.length > 1) warnings.push(`the masters differ in maxmemory-policy: ${policies.join(', ')}`);
    if (policy?.startsWith('allkeys-') || policy?.startsWith('volatile-')) {
      warnings.push(
        `maxmemory-policy ${policy} can evict cached responses before their TTL (all carry one): continued turns then ` +
          'fall back to PostgreSQL. Prefer noeviction with enough maxmemory, or a Redis of its own.',
      );
    }
    if (policy === 'noeviction' && maxmemory) {
      warnings.push(
        'maxmemory-policy noeviction: when Redis is full it refuses writes and new responses are not cached.',
      );
    }
    return {
      used_memory_bytes: number('used_memory'),
      used_memory_peak_bytes: number('used_memory_peak'),
      maxmemory_bytes: maxmemory,
      maxmemory_policy: policy,
      keyspace_hits: number('keyspace_hits'),
      keyspace_misses: number('keyspace_misses'),
      evicted_keys: number('evicted_keys'),
      nodes: nodes.length,
      warnings,
    };
  }

  /**
   * SCANs every data node; UNLINKs what matches slot by slot, through the client (which follows MOVED),
   * the slots of one SCAN batch in one round trip. Refuses while a master that owns slots is unreachable:
   * its keys would come back with its replica.
   */
  private async unlinkAll(pattern: string, keep: (key: string) => boolean = () => true): Promise<number> {
    const unreachable = unreachableMasters(this.redis);
    if (unreachable.length > 0) {
      throw new Error(
        `Cluster master ${unreachable.join(', ')} is unreachable: nothing was removed; retry once its replica has taken over`,
      );
    }
    let removed = 0;
    for (const node of dataNodes(this.redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
        const counts = await Promise.all(groupBySlot(found.filter(keep)).map((keys) => this.redis.unlink(...keys)));
        removed += counts.reduce((sum, count) => sum + count, 0);
        cursor = next;
      } while (cursor !== '0');
    }
    return removed;
  }
}

async function scan(node: Redis, pattern: string, limit: number): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0' && found.length < limit);
  return found;
}

/** One command per key on the node that holds the keys, in one round trip; a failed one reads as null. */
async function pipelined(
  node: Redis,
  keys: string[],
  add: (pipeline: ReturnType<Redis['pipeline']>, key: string) => unknown,
): Promise<unknown[]> {
  if (keys.length === 0) return [];
  const pipeline = node.pipeline();
  for (const key of keys) add(pipeline, key);
  return ((await pipeline.exec()) ?? []).map(([error, value]) => (error ? null : value));
}

function infoFields(text: string): Map<string, string> {
  return new Map(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)] as const),
  );
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

/**
 * The tag of a session named by one of its response ids, or by its session id and owner (sessions are
 * per owner); undefined for a session id without an owner.
 */
export function sessionTagOf(id: string, ownerHash?: string): string | undefined {
  return tagOfResponseId(id) ?? (ownerHash === undefined ? undefined : sessionTag(ownerHash, id));
}

function ttlBucket(ttl: number): keyof NamespaceOverview['ttl_seconds'] {
  if (ttl < 0) return 'none';
  if (ttl <= 10) return 'up_to_10';
  if (ttl <= 30) return 'up_to_30';
  if (ttl <= 60) return 'up_to_60';
  if (ttl <= 300) return 'up_to_300';
  return 'longer';
}

function summarize(
  response: StoredResponse,
  ttl: number,
  memory: number | null,
  withContent: boolean,
): CachedResponseSummary {
  return {
    id: response.id,
    previous_response_id: response.previousResponseId,
    model: response.model,
    status: response.status,
    created_at: new Date(response.createdAt).toISOString(),
    ttl_seconds: ttl,
    memory_bytes: memory,
    input_items: response.input.length,
    output_items: response.output.length,
    total_tokens: response.usage.total_tokens,
    ...(withContent
      ? { content: { instructions: response.instructions, input: response.input, output: response.output } }
      : {}),
  };
}
