import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  ConversationItem,
  ConversationRepository,
  ConversationStore,
  isConversationId,
  ItemsPage,
  newConversationId,
  StoredConversation,
} from '@app/session-store';
import { ApiError } from '../common/api-error';
import { durably } from '../common/durably';
import { shownId } from '../common/shown-id';
import { parseMetadata } from '../responses/create-response.request';
import { ItemReferences } from '../responses/item-references';
import { parseInput } from '../responses/request/input-items';
import { invalid, isObject, optional } from '../responses/request/json-fields';

/** OpenAI's limit on the items one create or add request may carry. */
const MAX_ITEMS_PER_REQUEST = 20;

/** The Conversations API: conversations and their items, each owner's own, PostgreSQL-durable, Redis-first for turns. */
@Injectable()
export class ConversationsService {
  private readonly responsesUpstream: boolean;

  constructor(
    private readonly repository: ConversationRepository,
    private readonly store: ConversationStore,
    private readonly itemReferences: ItemReferences,
    config: AppConfig,
  ) {
    this.responsesUpstream = config.upstreamApi === 'responses';
  }

  async create(body: unknown, ownerHash: string): Promise<StoredConversation> {
    const fields = isObject(body) ? body : {};
    const items = await this.items(fields.items, 'items', ownerHash, false);
    const conversation: StoredConversation = {
      id: newConversationId(),
      ownerHash,
      metadata: optional(fields, 'metadata', parseMetadata) ?? {},
      createdAt: Date.now(),
    };
    await durably(() => this.store.create(conversation, items), 'conversation');
    return conversation;
  }

  async find(id: string, ownerHash: string): Promise<StoredConversation> {
    const found = isConversationId(id)
      ? await durably(() => this.repository.find(id, ownerHash), 'conversation')
      : null;
    if (!found) throw notFound(id);
    return found;
  }

  async update(id: string, body: unknown, ownerHash: string): Promise<StoredConversation> {
    if (!isObject(body) || body.metadata === undefined) invalid("Missing required parameter: 'metadata'.", 'metadata');
    const metadata = optional(body, 'metadata', parseMetadata) ?? {};
    await this.find(id, ownerHash);
    const updated = await durably(() => this.repository.updateMetadata(id, ownerHash, metadata), 'conversation');
    if (!updated) throw notFound(id);
    return updated;
  }

  async delete(id: string, ownerHash: string): Promise<void> {
    await this.find(id, ownerHash);
    if (!(await durably(() => this.repository.delete(id, ownerHash), 'conversation'))) throw notFound(id);
  }

  async list(id: string, page: ItemsPage, ownerHash: string) {
    await this.find(id, ownerHash);
    const found = await durably(() => this.repository.page(id, page), 'conversation');
    const data = found?.items ?? [];
    return listOf(data, found?.hasMore ?? false);
  }

  async add(id: string, body: unknown, ownerHash: string) {
    await this.find(id, ownerHash);
    const items = await this.items(isObject(body) ? body.items : undefined, 'items', ownerHash, true);
    if (!(await durably(() => this.store.append(id, ownerHash, items), 'conversation'))) throw notFound(id);
    return listOf(items, false);
  }

  async item(id: string, itemId: string, ownerHash: string): Promise<ConversationItem> {
    await this.find(id, ownerHash);
    const item = await durably(() => this.repository.item(id, itemId), 'conversation');
    if (!item) throw itemNotFound(itemId);
    return item;
  }

  async deleteItem(id: string, itemId: string, ownerHash: string): Promise<StoredConversation> {
    const conversation = await this.find(id, ownerHash);
    if (!(await durably(() => this.repository.deleteItem(id, itemId), 'conversation'))) throw itemNotFound(itemId);
    return conversation;
  }

  /** Items as `input` takes them (references resolved), at most 20; `required`: at least one. */
  private async items(
    value: unknown,
    param: string,
    ownerHash: string,
    required: boolean,
  ): Promise<ConversationItem[]> {
    if (value === undefined || value === null) {
      if (required) invalid(`Missing required parameter: '${param}'.`, param);
      return [];
    }
    if (!Array.isArray(value)) invalid(`Invalid type for '${param}': expected an array of items.`, param);
    if (value.length > MAX_ITEMS_PER_REQUEST) {
      invalid(`Invalid '${param}': at most ${MAX_ITEMS_PER_REQUEST} items per request.`, param);
    }
    if (value.length === 0) {
      if (required) invalid(`Invalid '${param}': expected at least one item.`, param);
      return [];
    }
    const entries = parseInput(value, { responsesUpstream: this.responsesUpstream });
    return this.itemReferences.resolve(entries, ownerHash);
  }
}

function listOf(data: ConversationItem[], hasMore: boolean) {
  return {
    object: 'list' as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: hasMore,
  };
}

function notFound(id: string): ApiError {
  return ApiError.notFound(`Conversation with id '${shownId(id)}' not found.`, 'conversation_id');
}

function itemNotFound(id: string): ApiError {
  return ApiError.notFound(`Item with id '${shownId(id)}' not found.`, 'item_id');
}
