import { Injectable } from '@nestjs/common';
import { ConversationCache } from './conversation-cache';
import { ConversationRepository, StoredConversation } from './conversation-repository';
import { jsonText } from './pg-json';
import { ConversationItem } from './response-items';
import { HistorySource } from './stored-response';

/** A conversation's items as a turn continues from them, and where they were read. */
export interface ConversationHistory {
  items: ConversationItem[];
  source: Extract<HistorySource, 'hit' | 'db'>;
}

/**
 * Conversations' items, PostgreSQL-durable and Redis-first. PostgreSQL is the record and the one place
 * concurrent changes are ordered (each write is one statement under the conversation's row lock, and is
 * done before it is acknowledged); it also says which version is current, in one primary-key lookup per
 * turn. The items themselves come from Redis whenever it holds that version (see ConversationCache).
 */
@Injectable()
export class ConversationStore {
  constructor(
    private readonly repository: ConversationRepository,
    private readonly cache: ConversationCache,
  ) {}

  async create(conversation: StoredConversation, items: ConversationItem[]): Promise<void> {
    const created = await this.repository.create(conversation, items);
    await this.cache.fill(conversation.id, conversation.ownerHash, {
      version: created.version,
      itemsJson: jsonText(created.items) ?? '[]',
    });
  }

  /** Resolves false (nothing appended) when the conversation does not exist for this owner. */
  async append(id: string, ownerHash: string, items: ConversationItem[]): Promise<boolean> {
    const appended = await this.repository.append(id, ownerHash, items);
    if (!appended) return false;
    await this.cache.advance(id, ownerHash, appended);
    return true;
  }

  /** Every item, oldest first; null when the conversation does not exist for this owner. */
  async history(id: string, ownerHash: string): Promise<ConversationHistory | null> {
    const version = await this.repository.version(id, ownerHash);
    if (version === null) return null;
    const cached = await this.cache.items(id, ownerHash, version);
    if (cached !== null) return { items: JSON.parse(cached) as ConversationItem[], source: 'hit' };
    const snapshot = await this.repository.snapshot(id, ownerHash);
    if (!snapshot) return null;
    await this.cache.fill(id, ownerHash, snapshot);
    return { items: JSON.parse(snapshot.itemsJson) as ConversationItem[], source: 'db' };
  }
}
