import { ConversationItem, StoredResponse } from '@app/session-store';

/** The Response object of OpenAI's wire format, as `responses.create` / `.retrieve` return it. */
export function toResponseObject(r: StoredResponse) {
  return {
    id: r.id,
    object: 'response' as const,
    created_at: Math.floor(r.createdAt / 1000),
    status: r.status,
    background: false,
    error: r.error,
    incomplete_details: r.incompleteDetails,
    instructions: r.instructions,
    max_output_tokens: r.params.max_output_tokens,
    max_tool_calls: null,
    model: r.model,
    output: r.output,
    parallel_tool_calls: r.params.parallel_tool_calls,
    previous_response_id: r.previousResponseId,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: r.store,
    temperature: r.params.temperature ?? 1,
    text: r.params.text,
    tool_choice: r.params.tool_choice,
    tools: r.params.tools,
    top_p: r.params.top_p ?? 1,
    truncation: 'disabled',
    usage: r.status === 'in_progress' ? null : r.usage,
    user: r.params.user,
    metadata: r.metadata,
  };
}

export type ResponseObject = ReturnType<typeof toResponseObject>;

export interface InputItemsQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** `GET /v1/responses/:id/input_items`: a cursor page over the response's own input items. */
export function inputItemsPage(items: ConversationItem[], query: InputItemsQuery) {
  const ordered = query.order === 'asc' ? items : [...items].reverse();
  const cursor = query.after === undefined ? -1 : ordered.findIndex((item) => item.id === query.after);
  const start = cursor + 1;
  // An unknown cursor has nothing after it.
  const data = query.after !== undefined && cursor === -1 ? [] : ordered.slice(start, start + query.limit);
  return {
    object: 'list' as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: data.length > 0 && start + data.length < ordered.length,
  };
}
