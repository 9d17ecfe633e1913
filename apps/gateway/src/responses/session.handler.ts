import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import {
  ConversationItem,
  historyItems,
  HistorySource,
  isResolvable,
  RECENT_TROUBLE_MS,
  ResponseCache,
  ResponseRepository,
  SpendLogWriter,
  StoredResponse,
  tagOfResponseId,
} from '@app/session-store';
import { Bulkhead, BulkheadFull, describeDatabaseError } from '@app/database';
import { AppConfig } from '@app/config';
import { RateLimitedLogger, RedisService } from '@app/redis';
import { ATTRIBUTES, inSpan, SPAN_NAMES, Telemetry } from '@app/telemetry';
import { Span } from '@opentelemetry/api';
import { ApiError } from '../common/api-error';
import { API_ERROR_SPAN } from '../common/api-error-type';
import { outsideOwnTime, RequestTiming } from '../common/request-timing';
import { shownId } from '../common/shown-id';

export interface ResolvedHistory {
  /** The chain's session, or null for a new conversation. */
  sessionId: string | null;
  /** What goes upstream before the new input: each ancestor's input then output, oldest first. */
  items: ConversationItem[];
  source: HistorySource;
}

const HISTORY_RETRY_AFTER_SECONDS = 5;
/** How often a turn looks again for a previous response no layer holds when that may change, and how many times. */
const NOT_FOUND_RECHECK_MS = 750;
const NOT_FOUND_RECHECKS = 4;
/** Chain lookups that may wait for a PostgreSQL slot, per slot; beyond, a retryable 503 at once. */
const FALLBACK_WAITING_PER_SLOT = 16;
/** As long as the pool lets a query wait for a connection (PrismaService): the bound a wait had before. */
const FALLBACK_MAX_WAIT_MS = 5_000;
/** Refused chain lookups are logged as one warning at most this often, with a count (as admission control does). */
const REFUSALS_LOG_INTERVAL_MS = 10_000;

function previousResponseNotFound(id: string): ApiError {
  return ApiError.invalidRequest(
    `Previous response with id '${shownId(id)}' not found.`,
    'previous_response_id',
    'previous_response_not_found',
  );
}

/** An ancestor is in no layer and was not deleted: retryable, as it may still be recovering from a journal. */
function historyIncomplete(ancestorId: string): ApiError {
  return ApiError.unavailable(
    `The conversation history is incomplete: earlier response '${ancestorId}' is missing. ` +
      "It may still be recovering from a replica's journal; please retry.",
    'history_incomplete',
    'previous_response_id',
    HISTORY_RETRY_AFTER_SECONDS,
  );
}

export function isPreviousResponseNotFound(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return (error.getResponse() as { error: { code: string | null } }).error.code === 'previous_response_not_found';
}

/**
 * Resolves `previous_response_id` chains: Redis first (one round trip), then the spend-log writer's
 * unflushed rows, then PostgreSQL (one recursive query), and back-fills Redis with what it had to fetch.
 */
@Injectable()
export class SessionHandler {
  private readonly logger = new Logger('Sessions');
  /**
   * Chain lookups in PostgreSQL at once: a storm of cold chains must leave pooled connections to the rest
   * (the writer, conversations, deletions) and must not queue without end.
   */
  private readonly fallbacks: Bulkhead;
  private readonly refusalsLog = new RateLimitedLogger(this.logger, REFUSALS_LOG_INTERVAL_MS);

  constructor(
    private readonly cache: ResponseCache,
    private readonly writer: SpendLogWriter,
    private readonly repository: ResponseRepository,
    private readonly telemetry: Telemetry,
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    const limit = config.historyFallbackConcurrency;
    this.fallbacks = new Bulkhead(limit, limit * FALLBACK_WAITING_PER_SLOT, FALLBACK_MAX_WAIT_MS);
  }

  /**
   * In a span of its own (when traced) that says where the history came from. Adds to `timing.databaseMs`
   * the time spent waiting for PostgreSQL (for a slot, then for the chain lookup) and between the looks again
   * after Redis trouble.
   */
  resolve(previousResponseId: string | null, ownerHash: string, timing: RequestTiming): Promise<ResolvedHistory> {
    return inSpan(
      SPAN_NAMES.history,
      (span) => this.resolveIn(previousResponseId, ownerHash, timing, span),
      API_ERROR_SPAN,
    );
  }

  private async resolveIn(
    previousResponseId: string | null,
    ownerHash: string,
    timing: RequestTiming,
    span: Span | undefined,
  ): Promise<ResolvedHistory> {
    if (previousResponseId === null) {
      span?.setAttribute(ATTRIBUTES.historySource, 'none');
      return { sessionId: null, items: [], source: 'none' };
    }
    // Not one of our ids (a typo, NUL bytes, another service's id): no store can hold it.
    if (tagOfResponseId(previousResponseId) === undefined) {
      this.telemetry.recordHistory('miss', {}, span);
      throw previousResponseNotFound(previousResponseId);
    }
    const found = await this.lookup(previousResponseId, ownerHash, false, timing, span);
    if (found) return found;
    for (let look = 1; ; look += 1) {
      await outsideOwnTime(timing, () => sleep(NOT_FOUND_RECHECK_MS));
      const again = await this.lookup(previousResponseId, ownerHash, look === NOT_FOUND_RECHECKS, timing, span);
      if (again) return again;
    }
  }

  /**
   * The history. When no layer holds `previousResponseId`, null if another look may find it (unless `final`),
   * else it throws: after Redis trouble (a node died or failed over), or while Redis cannot answer, a response
   * another replica acknowledged through the cache may be in no layer for a moment, on its way to PostgreSQL
   * once that replica sees the trouble too (TurnRecorder), which may be a while later.
   */
  private async lookup(
    previousResponseId: string,
    ownerHash: string,
    final: boolean,
    timing: RequestTiming,
    span: Span | undefined,
  ): Promise<ResolvedHistory | null> {
    // Each response's history (input then output), newest first; Redis holds only resolvable ones.
    const newestFirst: ConversationItem[][] = [];
    let sessionId: string | null = null;
    let missing: string | null = previousResponseId;
    const cached = await this.cache.chain(previousResponseId, ownerHash);
    if (cached.ok) {
      newestFirst.push(...cached.value.found);
      sessionId = cached.value.sessionId;
      missing = cached.value.missing;
    }
    const fromRedis = newestFirst.length;

    const fetched: StoredResponse[] = [];
    while (missing !== null) {
      const buffered = this.writer.find(missing);
      if (!buffered || buffered.ownerHash !== ownerHash) break;
      fetched.push(buffered);
      missing = buffered.previousResponseId;
    }
    const fromBuffer = fetched.length;
    if (missing !== null) {
      const found = await this.fromDatabase(missing, ownerHash, fromRedis + fetched.length, timing);
      fetched.push(...found);
    }

    const perLayer = { redis: fromRedis, buffer: fromBuffer, postgres: fetched.length - fromBuffer };
    const head = fetched[0];
    if (fromRedis === 0 && (!head || head.id !== previousResponseId || !isResolvable(head))) {
      const inconclusive = !cached.ok || this.redis.troubledWithin(RECENT_TROUBLE_MS);
      if (!final && !head && inconclusive) return null;
      this.telemetry.recordHistory('miss', perLayer, span);
      throw previousResponseNotFound(previousResponseId);
    }
    const end = firstUnusable(fetched);
    const lost = end === fetched.length ? missingAncestor(missing, fetched, fromBuffer) : null;
    if (lost !== null) {
      this.telemetry.recordHistory('miss', perLayer, span);
      this.logger.error(
        `History of ${previousResponseId} is incomplete: its ancestor ${lost} is in no layer (not deleted); ` +
          'the turn is refused rather than continued with a shortened history',
      );
      throw historyIncomplete(lost);
    }
    const usable = fetched.slice(0, end);
    for (const response of usable) newestFirst.push(historyItems(response));
    const source = fromRedis === 0 ? 'db' : usable.length === 0 ? 'hit' : 'partial';
    this.telemetry.recordHistory(source, perLayer, span);

    const backfill = fetched.filter(isResolvable);
    if (backfill.length > 0 && (await this.cache.save(backfill))) this.telemetry.backfilled.inc(backfill.length);

    return { sessionId: sessionId ?? head?.sessionId ?? null, items: newestFirst.reverse().flat(), source };
  }

  private async fromDatabase(
    id: string,
    ownerHash: string,
    foundSoFar: number,
    timing: RequestTiming,
  ): Promise<StoredResponse[]> {
    try {
      return await outsideOwnTime(timing, () => this.fallbacks.run(() => this.repository.chain(id, ownerHash)));
    } catch (error) {
      if (error instanceof BulkheadFull) {
        this.telemetry.historyFallbacksRefused.inc();
        this.refusalsLog.warn(
          'Refusing chain lookups in PostgreSQL (503 history_unavailable): as many as HISTORY_FALLBACK_CONCURRENCY ' +
            'allows are running and waiting',
        );
        throw ApiError.refused(
          'Too many conversation histories are being read from PostgreSQL at once; please retry.',
          'history_unavailable',
          'previous_response_id',
          1,
        );
      }
      this.logger.error(`PostgreSQL chain lookup for ${id} failed: ${describeDatabaseError(error)}`);
      if (foundSoFar > 0) this.logger.warn(`History of ${id} is incomplete: older turns are unavailable`);
      throw ApiError.unavailable(
        'The conversation history is temporarily unavailable; please retry.',
        'history_unavailable',
        'previous_response_id',
      );
    }
  }
}

/** A deleted (or otherwise unresolvable) ancestor ends the history there. */
function firstUnusable(newestFirst: StoredResponse[]): number {
  const index = newestFirst.findIndex((response) => !isResolvable(response));
  return index === -1 ? newestFirst.length : index;
}

/**
 * The id of an ancestor that should be in the chain but is in no layer, or null when the chain is whole.
 * `asked` is the id the PostgreSQL lookup started from (null when the buffer reached the root), and
 * `fetched` the buffer's rows (the first `fromBuffer`) then PostgreSQL's, newest first.
 */
function missingAncestor(asked: string | null, fetched: StoredResponse[], fromBuffer: number): string | null {
  if (asked === null) return null;
  const fromDatabase = fetched.slice(fromBuffer);
  if (fromDatabase.length === 0 || fromDatabase[0].id !== asked) return asked;
  for (let index = 1; index < fromDatabase.length; index += 1) {
    const parent = fromDatabase[index - 1].previousResponseId;
    if (parent !== fromDatabase[index].id) return parent;
  }
  return fromDatabase[fromDatabase.length - 1].previousResponseId;
}
