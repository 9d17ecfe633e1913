/**
 * The names of the service's own spans and attributes, in one place. GenAI attributes follow the
 * OpenTelemetry GenAI semantic conventions; the service's own are under `rsc.`. No attribute ever holds
 * prompt or output text, or an API key.
 */
export const SPAN_NAMES = {
  /** Rebuilding a turn's history: Redis, then the writer's unflushed rows, then PostgreSQL. */
  history: 'rsc.history',
  /** The upstream call, until its answer (a stream: its last chunk) is read. */
  upstream: 'rsc.upstream',
  /** The finished response into the Redis cache and this replica's journal (one round trip). */
  cacheSave: 'rsc.cache_save',
  /** The response's row reaching PostgreSQL: at once, or with the writer's next batch. */
  durableWrite: 'rsc.durable_write',
  /** One batch of the spend-log writer (its own trace, linked to each row's durable write). */
  spendLogFlush: 'rsc.spend_log_flush',
} as const;

/** The span of one turn, as the GenAI conventions name inference spans: `{operation} {model}`. */
export function chatSpanName(model: string): string {
  return `${GEN_AI_OPERATION_CHAT} ${model}`;
}

export const GEN_AI_OPERATION_CHAT = 'chat';
/** Turns speak the OpenAI API (to clients, and to the OpenAI-compatible upstream). */
export const GEN_AI_PROVIDER_OPENAI = 'openai';

export const ATTRIBUTES = {
  genAiOperationName: 'gen_ai.operation.name',
  genAiProviderName: 'gen_ai.provider.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiRequestStream: 'gen_ai.request.stream',
  genAiResponseId: 'gen_ai.response.id',
  genAiResponseModel: 'gen_ai.response.model',
  genAiUsageInputTokens: 'gen_ai.usage.input_tokens',
  genAiUsageOutputTokens: 'gen_ai.usage.output_tokens',
  genAiConversationId: 'gen_ai.conversation.id',
  /** `responses` for the turn as served; `chat_completions` or `responses` for the upstream call. */
  openAiApiType: 'openai.api.type',
  errorType: 'error.type',
  httpRoute: 'http.route',
  /** Where the history came from: hit, partial, db, miss or none (the `x-session-cache` values). */
  historySource: 'rsc.history.source',
  /** Ancestor responses found per layer. */
  historyFromRedis: 'rsc.history.responses.redis',
  historyFromBuffer: 'rsc.history.responses.buffer',
  historyFromPostgres: 'rsc.history.responses.postgres',
  cacheSaved: 'rsc.cache.saved',
  journalAppended: 'rsc.journal.appended',
  /** `batch` (the writer's next flush) or `immediate` (written before the answer). */
  durableWriteMode: 'rsc.durable_write.mode',
  spendLogRows: 'rsc.spend_log.rows',
  responseStatus: 'rsc.response.status',
} as const;
