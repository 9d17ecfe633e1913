import { ConversationItem, ResponseParams, ResponseUsage, ServiceTier } from './response-items';

export type ResponseStatus = 'completed' | 'incomplete' | 'failed' | 'cancelled' | 'in_progress';

/** Where a turn's history came from (also the `x-session-cache` header). */
export type HistorySource = 'hit' | 'partial' | 'db' | 'miss' | 'none';

/** One response as kept in Redis, the writer's buffer and PostgreSQL. */
export interface StoredResponse {
  id: string;
  sessionId: string;
  previousResponseId: string | null;
  ownerHash: string;
  model: string;
  store: boolean;
  input: ConversationItem[];
  instructions: string | null;
  output: ConversationItem[];
  params: ResponseParams;
  metadata: Record<string, string>;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incompleteDetails: { reason: string } | null;
  usage: ResponseUsage;
  /** The processing tier the upstream reports it used, when it says (else the requested one is shown). */
  serviceTier?: ServiceTier | null;
  historySource: HistorySource;
  /** The Conversations API conversation the turn belonged to (its items were appended there). */
  conversationId?: string | null;
  /** Unix milliseconds. */
  createdAt: number;
  completedAt: number | null;
  /** Set by DELETE: the content is gone, only the spend-log facts remain. */
  deletedAt: number | null;
}

/** Only stored, finished responses can be retrieved or continued. */
export function isResolvable(response: StoredResponse): boolean {
  return (
    response.store &&
    response.deletedAt === null &&
    (response.status === 'completed' || response.status === 'incomplete')
  );
}

/** What a response adds to a conversation's history: its input items, then its output items. */
export function historyItems(response: StoredResponse): ConversationItem[] {
  return response.input.concat(response.output);
}

/**
 * The ids an `item_reference` may name an item by: its id, and for a function call also its call id
 * (the Vercel AI SDK refers to earlier tool calls by call id).
 */
export function referencesTo(item: ConversationItem): string[] {
  return item.type === 'function_call' ? [item.id, item.call_id] : [item.id];
}
