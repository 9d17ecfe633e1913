import { Injectable } from '@nestjs/common';
import { ConversationItem, ResponseCache, ResponseRepository, SpendLogWriter } from '@app/session-store';
import { ApiError } from '../common/api-error';
import { outsideOwnTime, RequestTiming } from '../common/request-timing';
import { shownId } from '../common/shown-id';
import { InputEntry, isItemReference } from './request/input-items';

/**
 * Resolves `item_reference` input entries to the items they name: input or output items of this
 * owner's stored responses, looked up Redis first (the items of recent responses carry their session's
 * tag), then the writer's unwritten rows, then PostgreSQL. Another owner's items are "not found".
 */
@Injectable()
export class ItemReferences {
  constructor(
    private readonly cache: ResponseCache,
    private readonly writer: SpendLogWriter,
    private readonly repository: ResponseRepository,
  ) {}

  /** With a turn's `timing`, the wait for PostgreSQL counts in its `databaseMs` (a slow dependency is not overload). */
  async resolve(input: InputEntry[], ownerHash: string, timing?: RequestTiming): Promise<ConversationItem[]> {
    const wanted = [...new Set(input.filter(isItemReference).map((reference) => reference.id))];
    const found = new Map<string, ConversationItem>();
    if (wanted.length > 0) {
      const cached = await this.cache.items(wanted, ownerHash);
      if (cached.ok) for (const [id, item] of cached.value) found.set(id, item);
      this.add(found, this.writer.findItems(this.missing(wanted, found), ownerHash));
      const missing = this.missing(wanted, found);
      if (missing.length > 0) this.add(found, await this.fromDatabase(missing, ownerHash, timing));
    }
    return input.map((entry, index) => {
      if (!isItemReference(entry)) return entry;
      const item = found.get(entry.id);
      if (!item) {
        throw ApiError.invalidRequest(`Item with id '${shownId(entry.id)}' not found.`, `input[${index}].id`);
      }
      return item;
    });
  }

  private missing(wanted: string[], found: Map<string, ConversationItem>): string[] {
    return wanted.filter((id) => !found.has(id));
  }

  private add(into: Map<string, ConversationItem>, from: Map<string, ConversationItem>): void {
    for (const [id, item] of from) into.set(id, item);
  }

  private async fromDatabase(
    ids: string[],
    ownerHash: string,
    timing: RequestTiming | undefined,
  ): Promise<Map<string, ConversationItem>> {
    try {
      return await outsideOwnTime(timing, () => this.repository.items(ids, ownerHash));
    } catch {
      throw ApiError.unavailable(
        'The items this request refers to are temporarily unavailable; please retry.',
        'history_unavailable',
        'input',
      );
    }
  }
}
