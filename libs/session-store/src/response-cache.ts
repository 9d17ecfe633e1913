import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { RedisOutcome, RedisService } from '@app/redis';
import type { Result } from 'ioredis';
import { CacheKeys } from './cache-keys';
import { ConversationItem } from './response-items';
import { CHAIN_SCRIPT, DELETE_SCRIPT, ITEMS_SCRIPT, SAVE_SCRIPT } from './cache-scripts';
import { tagOfItemId, tagOfResponseId } from './ids';
import { historyItems, referencesTo, StoredResponse } from './stored-response';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rscChain(
      sessionKey: string,
      responsePrefix: string,
      id: string,
      owner: string,
      ttl: number,
      limit: number,
    ): Result<[string[], string, string | null, number[]], Context>;
    rscSave(sessionKey: string, ...args: Array<string | number>): Result<number, Context>;
    rscItems(itemIndex: string, ...args: Array<string | number>): Result<[string[], string[]], Context>;
    rscDelete(sessionKey: string, responsePrefix: string, id: string, owner: string): Result<number, Context>;
  }
}

export interface CachedChain {
  /**
   * The history of each response found in Redis (its input then output items), newest first: the
   * requested response first. Redis holds only responses a chain can continue (see isResolvable).
   */
  found: ConversationItem[][];
  /** The session of the requested response; null when Redis did not hold it. */
  sessionId: string | null;
  /** The id the walk stopped at because Redis did not hold it; null when it reached the root. */
  missing: string | null;
}

/** Hard stop for a chain walk inside Redis (a chain is never longer than what Redis keeps per session). */
const MAX_CHAIN_WALK = 10_000;
/** Tag changes followed in one chain (a chain spans two tags during a rolling deploy, rarely more). */
const MAX_TAG_HOPS = 4;

/** The Redis layer: responses by id, chains in one round trip, TTL and per-session cap. */
@Injectable()
export class ResponseCache {
  readonly keys: CacheKeys;
  private readonly ttlSeconds: number;
  private readonly maxPerSession: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.keys = new CacheKeys(config.redisKeyPrefix);
    this.ttlSeconds = config.sessionTtlSeconds;
    this.maxPerSession = config.sessionMaxResponses;
    const client = redis.client;
    client.defineCommand('rscChain', { numberOfKeys: 1, lua: CHAIN_SCRIPT });
    client.defineCommand('rscSave', { numberOfKeys: 1, lua: SAVE_SCRIPT });
    client.defineCommand('rscDelete', { numberOfKeys: 1, lua: DELETE_SCRIPT });
    client.defineCommand('rscItems', { numberOfKeys: 1, lua: ITEMS_SCRIPT });
  }

  /**
   * The chain ending at `id`, as far as Redis holds it: one round trip per session tag on the way,
   * which is one unless the chain crosses tags (responses written before tags became per-owner: a
   * rolling deploy).
   */
  async chain(id: string, ownerHash: string): Promise<RedisOutcome<CachedChain>> {
    const chain: CachedChain = { found: [], sessionId: null, missing: id };
    let walked: string | undefined;
    for (let hop = 0; hop < MAX_TAG_HOPS && chain.missing !== null; hop += 1) {
      const tag = tagOfResponseId(chain.missing);
      // The same tag again would find nothing: the walk stopped because Redis does not hold that one.
      if (!tag || tag === walked) break;
      walked = tag;
      const outcome = await this.walk(tag, chain.missing, ownerHash);
      if (!outcome.ok) return hop === 0 ? outcome : { ok: true, value: chain };
      const { found, sessionId, missing } = outcome.value;
      if (found.length === 0) break;
      if (hop === 0) chain.sessionId = sessionId;
      chain.found.push(...found);
      chain.missing = missing;
    }
    return { ok: true, value: chain };
  }

  /** One walk of parent links inside one session tag. */
  private async walk(tag: string, id: string, ownerHash: string): Promise<RedisOutcome<CachedChain>> {
    const outcome = await this.redis.attempt('chain', (client) =>
      client.rscChain(
        this.keys.session(tag),
        this.keys.responsePrefix(tag),
        id,
        ownerHash,
        this.ttlSeconds,
        MAX_CHAIN_WALK,
      ),
    );
    if (!outcome.ok) return outcome;
    const [found, stoppedAt, sessionId, whole] = outcome.value;
    const history = found.map((json) => JSON.parse(json) as ConversationItem[]);
    // Entries written before the history field existed: their whole response came instead.
    let session = sessionId;
    for (const position of whole) {
      const response = history[position - 1] as unknown as StoredResponse;
      history[position - 1] = historyItems(response);
      if (position === 1) session = response.sessionId;
    }
    return {
      ok: true,
      value: {
        found: history,
        sessionId: found.length > 0 ? session : null,
        missing: stoppedAt === '' ? null : stoppedAt,
      },
    };
  }

  /**
   * Stores responses of one session (a new one, or a back-fill of older ones) and applies the cap.
   * Resolves false when Redis could not take them (already counted and logged). `json` serializes a
   * whole response (callers that already have its JSON pass it on).
   */
  async save(
    responses: StoredResponse[],
    json: (response: StoredResponse) => string = (response) => JSON.stringify(response),
  ): Promise<boolean> {
    const bySession = new Map<string, StoredResponse[]>();
    for (const response of responses) {
      const tag = tagOfResponseId(response.id);
      if (!tag) continue;
      const group = bySession.get(tag) ?? [];
      group.push(response);
      bySession.set(tag, group);
    }
    let ok = true;
    for (const [tag, group] of bySession) {
      // Only the newest `maxPerSession` could survive the cap anyway.
      const kept = group.sort((a, b) => b.createdAt - a.createdAt).slice(0, this.maxPerSession);
      const args = kept.flatMap((r) => {
        const history = historyItems(r);
        // Only ids carrying this session's tag can be looked up here (see newItemId).
        const indexed = history.map((item) => item.id).filter((id) => tagOfItemId(id) === tag);
        return [
          r.id,
          r.previousResponseId ?? '',
          r.ownerHash,
          r.sessionId,
          json(r),
          JSON.stringify(history),
          r.createdAt,
          indexed.length,
          ...indexed,
        ];
      });
      const outcome = await this.redis.attempt('save', (client) =>
        client.rscSave(
          this.keys.session(tag),
          this.keys.responsePrefix(tag),
          this.ttlSeconds,
          this.maxPerSession,
          this.keys.items(tag),
          ...args,
        ),
      );
      ok = ok && outcome.ok;
    }
    return ok;
  }

  /**
   * Items of this owner's cached responses by id (input or output items), in one round trip for all
   * the session tags the ids carry; ids Redis cannot place are left out of the map.
   */
  async items(ids: string[], ownerHash: string): Promise<RedisOutcome<Map<string, ConversationItem>>> {
    const found = new Map<string, ConversationItem>();
    const byTag = new Map<string, string[]>();
    for (const id of ids) {
      const tag = tagOfItemId(id);
      if (tag !== undefined) byTag.set(tag, [...(byTag.get(tag) ?? []), id]);
    }
    // Issued in the same tick: one round trip whatever the number of tags (auto-pipelining).
    const lookups = [...byTag].map(([tag, wanted]) =>
      this.redis.attempt('items', (client) =>
        client.rscItems(this.keys.items(tag), this.keys.responsePrefix(tag), ownerHash, this.ttlSeconds, ...wanted),
      ),
    );
    for (const outcome of await Promise.all(lookups)) {
      if (!outcome.ok) return outcome;
      const [, histories] = outcome.value;
      for (const json of histories) {
        const parsed = JSON.parse(json) as ConversationItem[] | StoredResponse;
        const items = Array.isArray(parsed) ? parsed : historyItems(parsed);
        for (const item of items) {
          for (const id of referencesTo(item)) if (ids.includes(id)) found.set(id, item);
        }
      }
    }
    return { ok: true, value: found };
  }

  /** One response if Redis holds it for this owner. */
  async get(id: string, ownerHash: string): Promise<RedisOutcome<StoredResponse | null>> {
    const tag = tagOfResponseId(id);
    if (!tag) return { ok: true, value: null };
    const outcome = await this.redis.attempt('get', (client) => client.hmget(this.keys.response(tag, id), 'd', 'o'));
    if (!outcome.ok) return outcome;
    const [json, owner] = outcome.value;
    return { ok: true, value: json && owner === ownerHash ? (JSON.parse(json) as StoredResponse) : null };
  }

  /** Evicts one response of this owner; resolves whether Redis was reachable. */
  async delete(id: string, ownerHash: string): Promise<boolean> {
    const tag = tagOfResponseId(id);
    if (!tag) return true;
    const outcome = await this.redis.attempt('delete', (client) =>
      client.rscDelete(this.keys.session(tag), this.keys.responsePrefix(tag), id, ownerHash),
    );
    return outcome.ok;
  }
}
