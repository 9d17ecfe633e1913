import type {
  Response as SdkResponse,
  ResponseError,
  ResponseFormatTextConfig,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseUsage as SdkUsage,
  Tool as SdkTool,
} from 'openai/resources/responses/responses';
import { ListQuery } from '../common/list-query';
import {
  ConversationItem,
  isFunctionTool,
  ResponseUsage,
  StoredResponse,
  TextFormat,
  Tool,
  ToolChoice,
} from '@app/session-store';

/**
 * The Response object as OpenAI sends it: the `openai` package's type is the contract (less
 * `output_text`, which the SDK computes on the client), plus the fields OpenAI sends that this SDK
 * version does not type yet.
 */
export type WireResponse = Omit<SdkResponse, 'output_text' | 'usage' | 'user'> & {
  /** null until the response is finished (as OpenAI sends it; the SDK types it as optional). */
  usage: SdkUsage | null;
  /** null when the request set none (idem). */
  user: string | null;
  store: boolean;
  presence_penalty: number;
  frequency_penalty: number;
  max_tool_calls: number | null;
};

/** `error.code` values a Response may carry; ours (store_unavailable, …) go out as the nearest of them. */
const WIRE_ERROR_CODES: ReadonlySet<string> = new Set<ResponseError['code']>([
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
]);

/** The Response object of OpenAI's wire format, as `responses.create` / `.retrieve` and every stream event carry it. */
export function toResponseObject(r: StoredResponse): WireResponse {
  const params = r.params;
  return {
    id: r.id,
    object: 'response',
    created_at: Math.floor(r.createdAt / 1000),
    status: r.status,
    background: false,
    completed_at: r.status === 'completed' && r.completedAt !== null ? Math.floor(r.completedAt / 1000) : null,
    conversation: r.conversationId ? { id: r.conversationId } : null,
    error: wireError(r),
    incomplete_details: r.incompleteDetails === null ? null : { reason: incompleteReason(r.incompleteDetails.reason) },
    instructions: r.instructions,
    max_output_tokens: params.max_output_tokens,
    max_tool_calls: params.max_tool_calls ?? null,
    model: r.model,
    output: r.output.map(toOutputItem),
    parallel_tool_calls: params.parallel_tool_calls,
    previous_response_id: r.previousResponseId,
    prompt: null,
    prompt_cache_key: params.prompt_cache_key ?? null,
    prompt_cache_retention: params.prompt_cache_retention ?? null,
    reasoning: { effort: params.reasoning?.effort ?? null, summary: params.reasoning?.summary ?? null },
    safety_identifier: params.safety_identifier ?? null,
    service_tier:
      r.serviceTier ?? (params.service_tier && params.service_tier !== 'auto' ? params.service_tier : 'default'),
    store: r.store,
    temperature: params.temperature ?? 1,
    text: { format: toSdkFormat(params.text.format), verbosity: params.text.verbosity ?? 'medium' },
    tool_choice: toSdkToolChoice(params.tool_choice),
    tools: params.tools.map(toSdkTool),
    top_logprobs: params.top_logprobs ?? 0,
    top_p: params.top_p ?? 1,
    truncation: params.truncation ?? 'disabled',
    usage: r.status === 'in_progress' ? null : toSdkUsage(r.usage),
    user: params.user,
    metadata: r.metadata,
    presence_penalty: params.presence_penalty ?? 0,
    frequency_penalty: params.frequency_penalty ?? 0,
  };
}

function wireError(r: StoredResponse): WireResponse['error'] {
  if (r.error === null || r.status === 'cancelled') return null;
  const code = WIRE_ERROR_CODES.has(r.error.code)
    ? (r.error.code as ResponseError['code'])
    : r.error.code.includes('rate_limit')
      ? 'rate_limit_exceeded'
      : 'server_error';
  return { code, message: r.error.message };
}

function incompleteReason(reason: string): 'max_output_tokens' | 'content_filter' {
  return reason === 'content_filter' ? 'content_filter' : 'max_output_tokens';
}

/** Output items as the SDK types them: ours are messages, function calls and reasoning; a `responses` upstream's other item types pass through. */
function toOutputItem(item: ConversationItem): ResponseOutputItem {
  switch (item.type) {
    case 'message':
      return {
        id: item.id,
        type: 'message',
        role: 'assistant',
        status: item.status ?? 'completed',
        content: item.content.flatMap((part): OutputContent[] => {
          if (part.type === 'output_text')
            return [
              {
                type: 'output_text' as const,
                text: part.text,
                annotations: relayedAnnotations(part.annotations),
                logprobs: part.logprobs ?? [],
              },
            ];
          if (part.type === 'refusal') return [part];
          return [];
        }),
      };
    case 'function_call':
      return {
        id: item.id,
        type: 'function_call',
        call_id: item.call_id,
        name: item.name,
        arguments: item.arguments,
        status: item.status ?? 'completed',
      };
    case 'reasoning':
      return { ...item, encrypted_content: item.encrypted_content ?? null };
    default:
      return passedThrough(item);
  }
}

/** Items this service does not model (hosted tool calls of a `responses` upstream) are relayed as the upstream sent them. */
function passedThrough(item: unknown): ResponseOutputItem {
  return item as ResponseOutputItem;
}

type OutputContent = ResponseOutputMessage['content'][number];
type OutputText = Extract<OutputContent, { type: 'output_text' }>;

function toSdkFormat(format: TextFormat): ResponseFormatTextConfig {
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      name: format.name ?? 'response',
      schema: format.schema ?? {},
      ...(format.description !== undefined ? { description: format.description } : {}),
      strict: format.strict ?? null,
    };
  }
  return { type: format.type };
}

function toSdkToolChoice(choice: ToolChoice): WireResponse['tool_choice'] {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', name: String(choice.name) };
  return choice as WireResponse['tool_choice']; // a hosted tool's choice, echoed as the client sent it
}

function toSdkUsage(usage: ResponseUsage): SdkUsage {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.input_tokens_details.cached_tokens, cache_write_tokens: 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.output_tokens_details.reasoning_tokens },
    total_tokens: usage.total_tokens,
  };
}

function toSdkTool(tool: Tool): SdkTool {
  if (isFunctionTool(tool)) {
    return {
      type: 'function',
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? null,
    };
  }
  return passedThroughTool(tool);
}

/** Citations a `responses` upstream attached (web and file search), relayed as it sent them. */
function relayedAnnotations(annotations: unknown[]): OutputText['annotations'] {
  return annotations as OutputText['annotations'];
}

/** Hosted tools (`responses` upstreams only) are echoed as the client sent them. */
function passedThroughTool(tool: unknown): SdkTool {
  return tool as SdkTool;
}

/** `GET /v1/responses/:id/input_items`: a cursor page over the response's own input items. */
export function inputItemsPage(items: ConversationItem[], query: ListQuery) {
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
