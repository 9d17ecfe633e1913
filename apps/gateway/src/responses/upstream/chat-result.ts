import {
  ConversationItem,
  EMPTY_USAGE,
  newItemId,
  ResponseUsage,
  SERVICE_TIERS,
  ServiceTier,
  StoredResponse,
  TokenLogprob,
  usageFrom,
} from '@app/session-store';
import { ChatCompletion, ChatTokenLogprob, ChatUsage } from './chat-types';

/** What an upstream answer adds to a response. */
export type TurnResult = Pick<StoredResponse, 'output' | 'usage' | 'status' | 'incompleteDetails' | 'serviceTier'>;

/** Chat Completions logprobs in the Responses shape (bytes filled in when the upstream leaves them out). */
export function toTokenLogprobs(content: ChatTokenLogprob[] | null | undefined): TokenLogprob[] {
  return (content ?? []).map((entry) => ({
    token: entry.token,
    bytes: entry.bytes ?? [...Buffer.from(entry.token)],
    logprob: entry.logprob,
    top_logprobs: (entry.top_logprobs ?? []).map((top) => ({
      token: top.token,
      bytes: top.bytes ?? [...Buffer.from(top.token)],
      logprob: top.logprob,
    })),
  }));
}

/** The tier the upstream says it used, if it is one OpenAI names. */
export function serviceTierOf(reported: string | null | undefined): ServiceTier | null {
  return SERVICE_TIERS.find((tier) => tier === reported) ?? null;
}

export function toResponseUsage(usage: ChatUsage | null | undefined): ResponseUsage {
  if (!usage) return EMPTY_USAGE;
  return usageFrom({
    input: usage.prompt_tokens,
    output: usage.completion_tokens,
    cached: usage.prompt_tokens_details?.cached_tokens,
    reasoning: usage.completion_tokens_details?.reasoning_tokens,
    total: usage.total_tokens,
  });
}

/** finish_reason -> Response status: `length` is incomplete (max_output_tokens), like OpenAI. */
export function statusOf(finishReason: string | null | undefined): Pick<TurnResult, 'status' | 'incompleteDetails'> {
  if (finishReason === 'length') return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter')
    return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  return { status: 'completed', incompleteDetails: null };
}

export function messageItem(
  id: string,
  text: string,
  refusal: string | null,
  status: 'completed' | 'incomplete',
  logprobs: TokenLogprob[] = [],
) {
  return {
    id,
    type: 'message' as const,
    role: 'assistant' as const,
    status,
    content: refusal
      ? [{ type: 'refusal' as const, refusal }]
      : [{ type: 'output_text' as const, text, annotations: [], logprobs }],
  };
}

/** A non-streamed chat completion as Response output. */
export function chatCompletionResult(completion: ChatCompletion, itemTag?: string): TurnResult {
  const choice = completion.choices?.[0];
  const { status, incompleteDetails } = statusOf(choice?.finish_reason);
  const itemStatus = status === 'incomplete' ? 'incomplete' : 'completed';
  const output: ConversationItem[] = [];
  const message = choice?.message;
  if ((message?.content ?? '') !== '' || message?.refusal) {
    const logprobs = toTokenLogprobs(choice?.logprobs?.content);
    output.push(
      messageItem(newItemId('msg', itemTag), message?.content ?? '', message?.refusal ?? null, itemStatus, logprobs),
    );
  }
  for (const call of message?.tool_calls ?? []) {
    output.push({
      id: newItemId('fc', itemTag),
      type: 'function_call',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: 'completed',
    });
  }
  return {
    output,
    usage: toResponseUsage(completion.usage),
    status,
    incompleteDetails,
    serviceTier: serviceTierOf(completion.service_tier),
  };
}
