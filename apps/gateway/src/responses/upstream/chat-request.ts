import { ContentPart, ConversationItem, ResponseParams } from '@app/session-store';
import { ChatContentPart, ChatMessage, ChatRequest } from './chat-types';

/**
 * Turns a Responses conversation (history then new input) into a Chat Completions request:
 * instructions become the system message; function calls become assistant `tool_calls`
 * (consecutive calls, and a call right after assistant text, share one assistant message);
 * call outputs become `tool` messages.
 */
export function toChatRequest(
  model: string,
  instructions: string | null,
  conversation: ConversationItem[],
  params: ResponseParams,
  stream: boolean,
): ChatRequest {
  const messages: ChatMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const item of conversation) {
    if (item.type === 'message') {
      if (item.role === 'assistant') {
        messages.push({ role: 'assistant', content: plainText(item.content) });
      } else {
        messages.push({ role: item.role, content: chatContent(item.content) });
      }
    } else if (item.type === 'function_call') {
      const call = {
        id: item.call_id,
        type: 'function' as const,
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
    }
  }

  const request: ChatRequest = { model, messages };
  if (stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  if (params.temperature !== null) request.temperature = params.temperature;
  if (params.top_p !== null) request.top_p = params.top_p;
  if (params.max_output_tokens !== null) request.max_completion_tokens = params.max_output_tokens;
  if (params.user !== null) request.user = params.user;
  if (params.tools.length > 0) {
    request.tools = params.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        ...(tool.parameters ? { parameters: tool.parameters } : {}),
        ...(tool.strict !== null && tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    }));
    request.tool_choice =
      typeof params.tool_choice === 'string'
        ? params.tool_choice
        : { type: 'function', function: { name: params.tool_choice.name } };
    request.parallel_tool_calls = params.parallel_tool_calls;
  }
  const format = params.text.format;
  if (format.type === 'json_object') request.response_format = { type: 'json_object' };
  if (format.type === 'json_schema') {
    request.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, strict: format.strict ?? undefined },
    };
  }
  return request;
}

function plainText(parts: ContentPart[]): string {
  return parts.map((part) => ('text' in part ? part.text : part.type === 'refusal' ? part.refusal : '')).join('');
}

function chatContent(parts: ContentPart[]): string | ChatContentPart[] {
  if (parts.every((part) => part.type === 'input_text' || part.type === 'output_text')) return plainText(parts);
  return parts.flatMap((part): ChatContentPart[] => {
    if (part.type === 'input_image') {
      const url = part.image_url ?? part.file_id ?? '';
      return [{ type: 'image_url', image_url: { url, ...(part.detail ? { detail: part.detail } : {}) } }];
    }
    const text = 'text' in part ? part.text : part.refusal;
    return [{ type: 'text', text }];
  });
}
