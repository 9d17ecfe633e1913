import { Injectable, Logger } from '@nestjs/common';
import { RedisService } from '@app/redis';
import { ATTRIBUTES, inSpan, SPAN_NAMES } from '@app/telemetry';
import { ConversationStore } from './conversation-store';
import { GroupCommit } from './group-commit';
import { ResponseCache } from './response-cache';
import { ResponseJournal } from './response-journal';
import { SpendLogWriter } from './spend-log.writer';
import { historyItems, isResolvable, StoredResponse } from './stored-response';

/** How long after Redis trouble cached turns are still written at once rather than at the next flush. */
export const RECENT_TROUBLE_MS = 30_000;

/** The record of a stored response that nothing durable could take (its client got a 503). */
export function storeUnavailableRecord(response: StoredResponse): StoredResponse {
  return {
    ...response,
    status: 'failed',
    error: {
      code: 'store_unavailable',
      message: 'Neither Redis nor PostgreSQL could keep the response; the client was told to retry.',
    },
  };
}

/**
 * Records every finished response, and makes "acknowledged" mean "durable": a stored response is
 * reported recorded only once it is both continuable from any replica and safe from a crash of this
 * process. Normally that is Redis (the cache, for the next turn) plus this replica's journal (until the
 * delayed writer has written it), in one round trip. When Redis cannot take it, it is written to
 * PostgreSQL before the answer (group commit); when only the journal can, the journal holds it. When
 * nothing can, `recordStored` resolves false and the client must be told to retry (503).
 */
@Injectable()
export class TurnRecorder {
  private readonly logger = new Logger('SpendLog');

  constructor(
    private readonly cache: ResponseCache,
    private readonly journal: ResponseJournal,
    private readonly writer: SpendLogWriter,
    private readonly groupCommit: GroupCommit,
    private readonly redis: RedisService,
    private readonly conversations: ConversationStore,
  ) {
    // Queued rows were acknowledged because Redis held them for the other replicas. Once Redis may have
    // lost them (a node died before replicating) or cannot show them (it is down), PostgreSQL must, now.
    redis.onTrouble(() => writer.flushSoon());
  }

  /** Acknowledged through the cache: written at the next flush, or at once while Redis has been in trouble. */
  private enqueueCached(response: StoredResponse, bytes: number, journalId: string | null): void {
    this.writer.enqueue(response, { bytes, journalId });
    // A save that landed just before a node died (or as it failed over) came after the flush it triggered.
    if (this.redis.troubledWithin(RECENT_TROUBLE_MS)) this.writer.flushSoon();
  }

  /**
   * Resolves whether the response may be acknowledged. Never throws. A turn of a conversation is added
   * to it last, once the response itself is kept: a failure then leaves no items a retry would repeat.
   */
  async record(response: StoredResponse): Promise<boolean> {
    return (await this.recordResponse(response)) && (await this.appendToConversation(response));
  }

  private async recordResponse(response: StoredResponse): Promise<boolean> {
    if (!isResolvable(response)) {
      this.recordSpendOnly(response);
      return true;
    }
    let json: string;
    try {
      json = JSON.stringify(response);
    } catch (error) {
      // Unreachable for parsed requests (nesting is bounded at parse time); never acknowledged if it happens.
      this.logger.error(`Response ${response.id} cannot be serialized: ${String(error)}`);
      this.recordSpendOnly(storeUnavailableRecord(response));
      return false;
    }
    const [cached, journalId] = await inSpan(SPAN_NAMES.cacheSave, async (span) => {
      const saved = await Promise.all([this.cache.save([response], () => json), this.journal.append(json)]);
      span?.setAttribute(ATTRIBUTES.cacheSaved, saved[0]);
      span?.setAttribute(ATTRIBUTES.journalAppended, saved[1] !== null);
      return saved;
    });
    if (cached && (journalId !== null || !this.journal.enabled)) {
      this.enqueueCached(response, json.length, journalId);
      return true;
    }
    // Redis could not take it (all or part): PostgreSQL now, so any replica finds it at once.
    if (await this.writeNow(response)) {
      if (journalId !== null) this.journal.remove([journalId]);
      this.writer.retrySoon();
      return true;
    }
    if (journalId !== null) {
      this.writer.enqueue(response, { bytes: json.length, journalId });
      return true;
    }
    if (cached) await this.cache.delete(response.id, response.ownerHash);
    this.recordSpendOnly(storeUnavailableRecord(response));
    return false;
  }

  /** The row to PostgreSQL before the answer (the writer's queue would be too late for other replicas). */
  private writeNow(response: StoredResponse): Promise<boolean> {
    return inSpan(SPAN_NAMES.durableWrite, async (span) => {
      span?.setAttribute(ATTRIBUTES.durableWriteMode, 'immediate');
      return this.groupCommit.write(response);
    });
  }

  /**
   * A finished turn of a conversation adds its input and output items to it, in one statement, before
   * the client sees it finish (PostgreSQL is the conversation's record; Redis's copy follows). Resolves false when that failed:
   * the client is told to retry, and the response kept meanwhile is simply never continued.
   */
  private async appendToConversation(response: StoredResponse): Promise<boolean> {
    const conversationId = response.conversationId;
    if (!conversationId || (response.status !== 'completed' && response.status !== 'incomplete')) return true;
    try {
      return await this.conversations.append(conversationId, response.ownerHash, historyItems(response));
    } catch (error) {
      this.logger.error(`Turn ${response.id} could not be added to conversation ${conversationId}: ${String(error)}`);
      return false;
    }
  }

  /**
   * A row the client is not told is stored (failed, cancelled, `store: false`): queued at once, and
   * journaled without waiting. Content that PostgreSQL will not keep is not held either.
   */
  recordSpendOnly(response: StoredResponse): void {
    const row = response.store ? response : { ...response, input: [], output: [], instructions: null };
    let json: string;
    try {
      json = JSON.stringify(row);
    } catch {
      this.writer.enqueue(row, { bytes: 0 }); // set aside by the writer, counted and logged with its id
      return;
    }
    if (!this.writer.enqueue(row, { bytes: json.length }) || !this.journal.enabled) return;
    void this.journal.append(json).then((journalId) => {
      if (journalId !== null) this.writer.attachJournal(row.id, journalId);
    });
  }
}
