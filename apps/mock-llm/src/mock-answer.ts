import { createHash } from 'node:crypto';
import { ChatCompletionRequest, ChatMessage, ChatToolCall, ChatUsage } from './chat-types';

export interface MockAnswer {
  /** Text pieces; joined they are the whole answer. Streamed one per chunk. */
  pieces: string[];
  toolCalls: ChatToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: ChatUsage;
}

export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => part.text ?? '').join('');
}

/** About four characters a token, like OpenAI's rule of thumb; at least one per non-empty text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** A short digest of the whole conversation, so a test can tell which history arrived. */
export function historyDigest(messages: ChatMessage[]): string {
  return createHash('sha256').update(JSON.stringify(messages)).digest('hex').slice(0, 12);
}

/**
 * Deterministic answer to a chat request:
 * - the last message is a tool result: "Tool <id> returned: <content>";
 * - a function tool is offered and the last user message names it: a call to that tool;
 * - otherwise: "Turn <n>: you said "<last user text>" (<k> messages, history <digest>)".
 * `max_completion_tokens` / `max_tokens` cut the answer short with finish_reason "length".
 */
export function answerFor(request: ChatCompletionRequest): MockAnswer {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  const userTurns = messages.filter((m) => m.role === 'user').length;
  const promptTokens = messages.reduce((sum, m) => sum + 4 + countTokens(textOf(m.content)), 0);
  const lastUserText = textOf([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');

  const toolCalls = toolCallsFor(request, last, lastUserText);
  if (toolCalls.length > 0) {
    const completion = toolCalls.reduce((sum, c) => sum + countTokens(c.function.name + c.function.arguments), 0);
    return { pieces: [], toolCalls, finishReason: 'tool_calls', usage: usage(promptTokens, completion) };
  }

  const text =
    last?.role === 'tool'
      ? `Tool ${last.tool_call_id ?? 'call'} returned: ${textOf(last.content)}`
      : `Turn ${userTurns}: you said "${lastUserText}" (${messages.length} messages, history ${historyDigest(messages)})`;
  let pieces = text.split(/(?<= )/);
  const limit = request.max_completion_tokens ?? request.max_tokens;
  let finishReason: MockAnswer['finishReason'] = 'stop';
  if (typeof limit === 'number' && limit > 0 && countTokens(text) > limit) {
    pieces = truncateToTokens(pieces, limit);
    finishReason = 'length';
  }
  return { pieces, toolCalls: [], finishReason, usage: usage(promptTokens, countTokens(pieces.join(''))) };
}

function toolCallsFor(request: ChatCompletionRequest, last: ChatMessage | undefined, text: string): ChatToolCall[] {
  if (!request.tools?.length || request.tool_choice === 'none' || last?.role !== 'user') return [];
  const named = request.tools.filter((tool) => text.includes(tool.function.name));
  return named.map((tool, index) => ({
    id: `call_${historyDigest(request.messages)}_${index}`,
    type: 'function',
    function: { name: tool.function.name, arguments: JSON.stringify({ input: text }) },
  }));
}

function truncateToTokens(pieces: string[], limit: number): string[] {
  const kept: string[] = [];
  for (const piece of pieces) {
    if (countTokens([...kept, piece].join('')) > limit) break;
    kept.push(piece);
  }
  return kept.length > 0 ? kept : [pieces[0]?.slice(0, limit * 4) ?? ''];
}

function usage(prompt: number, completion: number): ChatUsage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}
