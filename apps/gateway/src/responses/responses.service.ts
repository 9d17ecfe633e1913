import { AppConfig, SessionTagScope } from '@app/config';
import { Inject, Injectable } from '@nestjs/common';
import {
  ConversationItem,
  ConversationStore,
  EMPTY_USAGE,
  isConversationId,
  GroupCommit,
  newResponseId,
  newSessionId,
  ResponseCache,
  ResponseRepository,
  SpendLogWriter,
  StoredResponse,
  tagOfResponseId,
} from '@app/session-store';
import { ATTRIBUTES, inSpan, SPAN_NAMES, withActiveSpan } from '@app/telemetry';
import { Span } from '@opentelemetry/api';
import { Admission } from '../admission/admission';
import { ApiError } from '../common/api-error';
import { API_ERROR_SPAN } from '../common/api-error-type';
import { durably } from '../common/durably';
import { shownId } from '../common/shown-id';
import { DrainState } from '../lifecycle/drain-state';
import { toErrorReply } from '../common/error-envelope';
import { outsideOwnTime, RequestTiming } from '../common/request-timing';
import { Caller } from './caller';
import { CreateResponseRequest, parseCreateResponseRequest, RequestContext } from './create-response.request';
import { ItemReferences } from './item-references';
import { ResolvedHistory, SessionHandler } from './session.handler';
import { storeAtCapacity } from './store-unavailable';
import { cancelledRecord, Turn, TurnFailedError } from './turn';
import { describeTurn, endTurnSpan, failTurnSpan, startTurnSpan } from './turn-span';
import { UPSTREAM_ADAPTER, UpstreamAdapter, UpstreamTurn } from './upstream/upstream-adapter';

const SESSION_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

@Injectable()
export class ResponsesService {
  constructor(
    private readonly sessions: SessionHandler,
    @Inject(UPSTREAM_ADAPTER) private readonly upstream: UpstreamAdapter,
    private readonly cache: ResponseCache,
    private readonly writer: SpendLogWriter,
    private readonly repository: ResponseRepository,
    private readonly groupCommit: GroupCommit,
    private readonly drain: DrainState,
    private readonly config: AppConfig,
    private readonly itemReferences: ItemReferences,
    private readonly conversations: ConversationStore,
    private readonly admission: Admission,
  ) {
    this.requestContext = { responsesUpstream: config.upstreamApi === 'responses' };
  }

  private readonly requestContext: RequestContext;

  /**
   * Validates, rebuilds the history, and asks the upstream. Upstream failures throw TurnFailedError.
   * The turn's span (when traced) is active throughout, and handed on with the Turn to be ended once the
   * response is recorded.
   */
  async create(
    body: unknown,
    caller: Caller,
    sessionHeader: string | undefined,
    signal: AbortSignal,
    timing: RequestTiming,
  ): Promise<Turn> {
    const request = parseCreateResponseRequest(body, this.requestContext);
    // The writer's queue is at its bound (PostgreSQL has been away): refuse before anything is spent.
    if (request.store && this.writer.atCapacity !== null) throw storeAtCapacity();
    const span = startTurnSpan(request.model, request.stream);
    try {
      return await withActiveSpan(span, () => this.startTurn(request, caller, sessionHeader, signal, timing, span));
    } catch (error) {
      if (error instanceof TurnFailedError) endTurnSpan(span, error.record);
      else failTurnSpan(span, error);
      throw error;
    }
  }

  private async startTurn(
    request: CreateResponseRequest,
    caller: Caller,
    sessionHeader: string | undefined,
    signal: AbortSignal,
    timing: RequestTiming,
    span: Span | undefined,
  ): Promise<Turn> {
    const history =
      request.conversationId !== null
        ? await this.conversationHistory(request.conversationId, caller.ownerHash, timing)
        : await this.sessions.resolve(request.previousResponseId, caller.ownerHash, timing);
    const input = await this.itemReferences.resolve(request.input, caller.ownerHash, timing);
    // Past capacity, a turn that waited too long is refused here, before anything is asked of the upstream.
    this.admission.beforeUpstream(timing);
    const sessionId = history.sessionId ?? chooseSessionId(sessionHeader, request.metadata);
    const draft = draftOf(
      { ...request, input },
      sessionId,
      caller.ownerHash,
      history.source,
      this.config.sessionTagScope,
    );
    describeTurn(span, draft);
    const turn: UpstreamTurn = {
      model: request.model,
      instructions: request.instructions,
      conversation: [...history.items, ...input],
      params: request.params,
      authorization: caller.authorization,
      timing,
      itemTag: tagOfResponseId(draft.id) ?? '',
    };
    try {
      if (request.stream) {
        return { kind: 'stream', draft, events: await this.upstream.stream(turn, draft, signal), sessionId, span };
      }
      const result = await this.upstream.complete(turn, signal);
      return { kind: 'response', response: { ...draft, ...result, completedAt: Date.now() }, sessionId, span };
    } catch (error) {
      const record = signal.aborted ? cancelledRecord(draft, this.drain.cancelCause) : failedRecord(draft, error);
      throw new TurnFailedError(asApiError(error), record);
    }
  }

  /**
   * A conversation's items as the turn's history (its session is the conversation), or 404. The lookup's time
   * counts as PostgreSQL's in `timing` (the items may come from there; a slow dependency is not overload).
   */
  private conversationHistory(id: string, ownerHash: string, timing: RequestTiming): Promise<ResolvedHistory> {
    return inSpan(
      SPAN_NAMES.history,
      (span) => outsideOwnTime(timing, () => this.conversationHistoryIn(id, ownerHash, span)),
      API_ERROR_SPAN,
    );
  }

  private async conversationHistoryIn(id: string, ownerHash: string, span: Span | undefined): Promise<ResolvedHistory> {
    const history = isConversationId(id) ? await durably(() => this.conversations.history(id, ownerHash)) : null;
    if (!history) {
      throw ApiError.notFound(`Conversation with id '${shownId(id)}' not found.`, 'conversation');
    }
    span?.setAttribute(ATTRIBUTES.historySource, history.source);
    return { sessionId: id, ...history };
  }

  /** A stored response of this owner (any status), or 404. */
  async retrieve(id: string, ownerHash: string): Promise<StoredResponse> {
    // Not one of our ids: answered without touching a store (PostgreSQL would refuse a NUL, say).
    if (tagOfResponseId(id) === undefined) throw responseNotFound(id);
    const cached = await this.cache.get(id, ownerHash);
    const found =
      (cached.ok ? cached.value : null) ??
      ownedBy(this.writer.find(id), ownerHash) ??
      (await durably(() => this.repository.find(id, ownerHash)));
    if (!found || !found.store || found.deletedAt !== null) throw responseNotFound(id);
    return found;
  }

  /**
   * Deletes from every layer; PostgreSQL keeps the spend-log facts without the content. Redis must
   * take the eviction (one retry), or the content could come back from the cache: else a retryable 503.
   */
  async delete(id: string, ownerHash: string): Promise<void> {
    const found = await this.retrieve(id, ownerHash);
    const at = Date.now();
    // A tombstone first, before anything changes: a replica that still holds the row unwritten (in its
    // queue or its journal) then finds the id taken, and cannot bring the content back when it writes it.
    if (!(await this.groupCommit.write({ ...(this.writer.find(id) ?? found), deletedAt: at }))) {
      throw ApiError.unavailable(
        'The response store is temporarily unavailable; nothing was deleted. Please retry.',
        'store_unavailable',
      );
    }
    const evicted = (await this.cache.delete(id, ownerHash)) || (await this.cache.delete(id, ownerHash));
    if (!evicted) {
      throw ApiError.unavailable(
        'The response could not be evicted from the cache, so the deletion is not complete. Please retry.',
        'cache_unavailable',
      );
    }
    this.writer.markDeleted(id, at);
    await durably(() => this.repository.markDeleted(id, ownerHash, new Date(at)));
    // A turn that read the chain from PostgreSQL just before may have cached it again meanwhile.
    await this.cache.delete(id, ownerHash);
  }
}

function responseNotFound(id: string): ApiError {
  return ApiError.notFound(`Response with id '${shownId(id)}' not found.`, 'response_id');
}

function chooseSessionId(header: string | undefined, metadata: Record<string, string>): string {
  const fromHeader = header?.trim();
  if (fromHeader) {
    if (!SESSION_ID.test(fromHeader)) {
      throw ApiError.invalidRequest(
        "Invalid 'x-session-id' header: use 1-128 letters, digits or _.:@-",
        'x-session-id',
      );
    }
    return fromHeader;
  }
  const fromMetadata = metadata.session_id;
  if (fromMetadata !== undefined) {
    if (!SESSION_ID.test(fromMetadata)) {
      throw ApiError.invalidRequest(
        "Invalid 'metadata.session_id': use 1-128 letters, digits or _.:@-",
        'metadata.session_id',
      );
    }
    return fromMetadata;
  }
  return newSessionId();
}

function draftOf(
  request: CreateResponseRequest & { input: ConversationItem[] },
  sessionId: string,
  ownerHash: string,
  historySource: StoredResponse['historySource'],
  tagScope: SessionTagScope,
): StoredResponse {
  return {
    id: newResponseId(tagScope === 'owner' ? ownerHash : null, sessionId),
    sessionId,
    previousResponseId: request.previousResponseId,
    conversationId: request.conversationId,
    ownerHash,
    model: request.model,
    store: request.store,
    input: request.input,
    instructions: request.instructions,
    output: [],
    params: request.params,
    metadata: request.metadata,
    status: 'in_progress',
    error: null,
    incompleteDetails: null,
    usage: EMPTY_USAGE,
    historySource,
    createdAt: Date.now(),
    completedAt: null,
    deletedAt: null,
  };
}

function ownedBy(response: StoredResponse | undefined, ownerHash: string): StoredResponse | null {
  return response && response.ownerHash === ownerHash ? response : null;
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const { status, body } = toErrorReply(error);
  return new ApiError(status, body.error.message, body.error.type, body.error.param, body.error.code);
}

function failedRecord(draft: StoredResponse, error: unknown): StoredResponse {
  const { body } = toErrorReply(error);
  return {
    ...draft,
    status: 'failed',
    error: { code: body.error.code ?? body.error.type, message: body.error.message },
    completedAt: Date.now(),
  };
}
