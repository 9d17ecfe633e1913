import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import {
  ConversationItem,
  HistorySource,
  isResolvable,
  ResponseCache,
  ResponseRepository,
  SpendLogWriter,
  StoredResponse,
} from '@app/session-store';
import { ApiError } from '../common/api-error';

export interface ResolvedHistory {
  /** The chain's session, or null for a new conversation. */
  sessionId: string | null;
  /** What goes upstream before the new input: each ancestor's input then output, oldest first. */
  items: ConversationItem[];
  source: HistorySource;
  /** Ancestors, oldest first. */
  chain: StoredResponse[];
}

/** Where the responses of resolved chains came from, for the ops surface. */
export interface HistoryCounters {
  lookups: number;
  redisResponses: number;
  bufferResponses: number;
  databaseResponses: number;
  notFound: number;
  backfilledResponses: number;
}

export function previousResponseNotFound(id: string): ApiError {
  return ApiError.invalidRequest(
    `Previous response with id '${id}' not found.`,
    'previous_response_id',
    'previous_response_not_found',
  );
}

/**
 * Resolves `previous_response_id` chains: Redis first (one round trip), then the spend-log writer's
 * unflushed rows, then PostgreSQL (one recursive query), and back-fills Redis with what it had to fetch.
 */
@Injectable()
export class SessionHandler {
  private readonly logger = new Logger('Sessions');
  readonly counters: HistoryCounters = {
    lookups: 0,
    redisResponses: 0,
    bufferResponses: 0,
    databaseResponses: 0,
    notFound: 0,
    backfilledResponses: 0,
  };

  constructor(
    private readonly cache: ResponseCache,
    private readonly writer: SpendLogWriter,
    private readonly repository: ResponseRepository,
  ) {}

  async resolve(previousResponseId: string | null, ownerHash: string): Promise<ResolvedHistory> {
    if (previousResponseId === null) return { sessionId: null, items: [], source: 'none', chain: [] };
    this.counters.lookups += 1;

    const newestFirst: StoredResponse[] = [];
    let missing: string | null = previousResponseId;
    const cached = await this.cache.chain(previousResponseId, ownerHash);
    if (cached.ok) {
      newestFirst.push(...cached.value.found);
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
    if (missing !== null)
      fetched.push(...(await this.fromDatabase(missing, ownerHash, newestFirst.length + fetched.length)));
    newestFirst.push(...fetched);

    const head = newestFirst[0];
    if (!head || head.id !== previousResponseId || !isResolvable(head)) {
      this.counters.notFound += 1;
      throw previousResponseNotFound(previousResponseId);
    }
    const usable = newestFirst.slice(0, firstUnusable(newestFirst));
    this.counters.redisResponses += fromRedis;
    this.counters.bufferResponses += fromBuffer;
    this.counters.databaseResponses += fetched.length - fromBuffer;

    const backfill = fetched.filter(isResolvable);
    if (backfill.length > 0 && (await this.cache.save(backfill))) this.counters.backfilledResponses += backfill.length;

    const chain = usable.reverse();
    return {
      sessionId: head.sessionId,
      items: chain.flatMap((response) => [...response.input, ...response.output]),
      source: fromRedis === 0 ? 'db' : fromRedis === usable.length ? 'hit' : 'partial',
      chain,
    };
  }

  private async fromDatabase(id: string, ownerHash: string, foundSoFar: number): Promise<StoredResponse[]> {
    try {
      return await this.repository.chain(id, ownerHash);
    } catch (error) {
      this.logger.error(
        `PostgreSQL chain lookup for ${id} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (foundSoFar > 0) this.logger.warn(`History of ${id} is incomplete: older turns are unavailable`);
      throw new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The conversation history is temporarily unavailable; please retry.',
        'server_error',
        'previous_response_id',
        'history_unavailable',
      );
    }
  }
}

/** A deleted (or otherwise unresolvable) ancestor ends the history there. */
function firstUnusable(newestFirst: StoredResponse[]): number {
  const index = newestFirst.findIndex((response) => !isResolvable(response));
  return index === -1 ? newestFirst.length : index;
}
