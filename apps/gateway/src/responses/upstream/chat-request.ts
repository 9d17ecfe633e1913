import {
  ContentPart,
  ConversationItem,
  isFunctionTool,
  ResponseParams,
  ToolChoice,
  ToolOutputPart,
} from '@app/session-store';
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
  // Images and files tools returned wait until the run of tool messages ends (nothing may come between them).
  let toolMedia: ChatContentPart[] = [];
  for (const item of conversation) {
    if (item.type !== 'function_call_output' && toolMedia.length > 0) {
      messages.push({ role: 'user', content: toolMedia });
      toolMedia = [];
    }
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
    } else if (item.type === 'function_call_output') {
      const { message, media } = toolOutput(item.call_id, item.output);
      messages.push(message);
      toolMedia.push(...media);
    }
    // Reasoning items have no Chat Completions form: the upstream reasons afresh.
  }
  if (toolMedia.length > 0) messages.push({ role: 'user', content: toolMedia });

  const request: ChatRequest = { model, messages };
  if (stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  if (params.temperature !== null) request.temperature = params.temperature;
  if (params.top_p !== null) request.top_p = params.top_p;
  if (params.max_output_tokens !== null) request.max_completion_tokens = params.max_output_tokens;
  if (params.user !== null) request.user = params.user;
  Object.assign(request, samplingFields(params));
  const functions = params.tools.filter(isFunctionTool);
  if (functions.length > 0) {
    request.tools = functions.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        ...(tool.parameters ? { parameters: tool.parameters } : {}),
        ...(tool.strict !== null && tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    }));
    request.tool_choice = chatToolChoice(params.tool_choice);
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

/**
 * The Responses parameters that have a Chat Completions counterpart of another name or shape
 * (`truncation`, `max_tool_calls` and `reasoning.summary` have none: echoed, not applied).
 */
function samplingFields(params: ResponseParams): Partial<ChatRequest> {
  const fields: Partial<ChatRequest> = {};
  if (params.reasoning?.effort) fields.reasoning_effort = params.reasoning.effort;
  if (params.text.verbosity) fields.verbosity = params.text.verbosity;
  if (params.service_tier) fields.service_tier = params.service_tier;
  if (params.prompt_cache_key) fields.prompt_cache_key = params.prompt_cache_key;
  if (params.prompt_cache_retention) fields.prompt_cache_retention = params.prompt_cache_retention;
  if (params.safety_identifier) fields.safety_identifier = params.safety_identifier;
  if (typeof params.presence_penalty === 'number') fields.presence_penalty = params.presence_penalty;
  if (typeof params.frequency_penalty === 'number') fields.frequency_penalty = params.frequency_penalty;
  if (params.include?.includes('message.output_text.logprobs') || typeof params.top_logprobs === 'number') {
    fields.logprobs = true;
    if (params.top_logprobs) fields.top_logprobs = params.top_logprobs;
  }
  return fields;
}

/** Chat Completions' form of a tool choice: a name becomes `function.name`; an allowed list keeps its mode. */
function chatToolChoice(choice: ToolChoice): ChatRequest['tool_choice'] {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'allowed_tools') {
    const listed = Array.isArray(choice.tools) ? (choice.tools as Array<{ name?: unknown }>) : [];
    return {
      type: 'allowed_tools',
      allowed_tools: {
        mode: choice.mode === 'required' ? 'required' : 'auto',
        tools: listed.map((tool) => ({ type: 'function', function: { name: String(tool.name) } })),
      },
    };
  }
  return { type: 'function', function: { name: String(choice.name) } };
}

function plainText(parts: ContentPart[]): string {
  return parts.map((part) => ('text' in part ? part.text : part.type === 'refusal' ? part.refusal : '')).join('');
}

function chatContent(parts: ContentPart[]): string | ChatContentPart[] {
  if (parts.every((part) => part.type === 'input_text' || part.type === 'output_text')) return plainText(parts);
  return chatParts(parts);
}

function chatParts(parts: ContentPart[]): ChatContentPart[] {
  return parts.flatMap((part): ChatContentPart[] => {
    if (part.type === 'input_image') {
      const url = part.image_url ?? part.file_id ?? '';
      return [{ type: 'image_url', image_url: { url, ...(part.detail ? { detail: part.detail } : {}) } }];
    }
    if (part.type === 'input_file') return [filePart(part)];
    if (part.type === 'refusal') return [{ type: 'text', text: part.refusal }];
    return [{ type: 'text', text: part.text }];
  });
}

/**
 * `file_data` as Chat Completions carries it; a `file_url` as a `file_id` holding the URL, which
 * gateways such as LiteLLM fetch (OpenAI's own Chat Completions has no URL form for files).
 */
function filePart(part: Extract<ContentPart, { type: 'input_file' }>): ChatContentPart {
  const filename = part.filename ? { filename: part.filename } : {};
  if (part.file_data !== undefined) return { type: 'file', file: { file_data: part.file_data, ...filename } };
  return { type: 'file', file: { file_id: part.file_url ?? part.file_id, ...filename } };
}

/**
 * A tool message holds text only: the text parts go there (an empty string when there are none); the
 * images and files the tool returned follow the run of tool messages in a user message.
 */
function toolOutput(
  callId: string,
  output: string | ToolOutputPart[],
): { message: ChatMessage; media: ChatContentPart[] } {
  if (typeof output === 'string')
    return { message: { role: 'tool', tool_call_id: callId, content: output }, media: [] };
  const text = output.flatMap((part) =>
    part.type === 'input_text' ? [{ type: 'text' as const, text: part.text }] : [],
  );
  return {
    message: { role: 'tool', tool_call_id: callId, content: text.length > 0 ? text : '' },
    media: chatParts(output.filter((part) => part.type !== 'input_text')),
  };
}
