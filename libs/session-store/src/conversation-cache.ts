import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import type { Result } from 'ioredis';
import { CONVERSATION_ADVANCE_SCRIPT } from './cache-scripts';
import { CacheKeys } from './cache-keys';
import { Appended, ConversationSnapshot } from './conversation-repository';
import { sessionTag } from './ids';
import { jsonText } from './pg-json';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rscConversationAdvance(before: string, after: string, items: string, ttl: number): Result<number, Context>;
  }
}

/**
 * The Redis layer of conversations: copies of a conversation's items, each keyed by the version
 * PostgreSQL gave them. A version's items never change (every change to them bumps it), so a copy is
 * never stale: it is the right one or it is absent. An append derives the next version's copy from the
 * previous one in Redis, so a conversation in steady use is read from Redis every turn. Failures are
 * only misses: PostgreSQL holds the conversation.
 */
@Injectable()
export class ConversationCache {
  private readonly keys: CacheKeys;
  private readonly ttlSeconds: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.keys = new CacheKeys(config.redisKeyPrefix);
    this.ttlSeconds = config.sessionTtlSeconds;
    redis.client.defineCommand('rscConversationAdvance', { numberOfKeys: 2, lua: CONVERSATION_ADVANCE_SCRIPT });
  }

  /** The items (JSON array text) at this version, or null when Redis does not hold them (or failed). */
  async items(id: string, ownerHash: string, version: number): Promise<string | null> {
    const key = this.key(id, ownerHash, version);
    // Read without refreshing its TTL: a copy lives SESSION_TTL_SECONDS from when it was written at most.
    const outcome = await this.redis.attempt('conversation', (client) => client.get(key));
    return outcome.ok ? outcome.value : null;
  }

  /** Keeps a snapshot read from PostgreSQL (or just written to it). */
  async fill(id: string, ownerHash: string, snapshot: ConversationSnapshot): Promise<void> {
    const key = this.key(id, ownerHash, snapshot.version);
    await this.redis.attempt('conversation', (client) =>
      client.set(key, snapshot.itemsJson, 'EX', this.ttlSeconds, 'NX'),
    );
  }

  /** After an append that added items: the new version's copy, when Redis held the previous one. */
  async advance(id: string, ownerHash: string, appended: Appended): Promise<void> {
    if (appended.items.length === 0) return;
    const tag = sessionTag(ownerHash, id);
    const before = this.keys.conversation(tag, appended.before);
    const after = this.keys.conversation(tag, appended.after);
    // As PostgreSQL keeps them (see jsonText), so a copy and a read from PostgreSQL give the same history.
    const items = jsonText(appended.items) ?? '[]';
    await this.redis.attempt('conversation', (client) =>
      client.rscConversationAdvance(before, after, items, this.ttlSeconds),
    );
  }

  private key(id: string, ownerHash: string, version: number): string {
    return this.keys.conversation(sessionTag(ownerHash, id), version);
  }
}
