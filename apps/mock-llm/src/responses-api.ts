import { ChatCompletionRequest, ChatMessage, ChatTool } from './chat-types';
import { MockAnswer } from './mock-answer';

/** The subset of a stateless Responses request the mock understands. */
export interface ResponsesRequest {
  model: string;
  input: string | Array<Record<string, unknown>>;
  instructions?: string;
  tools?: Array<{ type: string; name: string; description?: string; parameters?: unknown }>;
  tool_choice?: unknown;
  max_output_tokens?: number;
  stream?: boolean;
  store?: boolean;
  previous_response_id?: string;
}

/** The same conversation as a chat request, so one answer function serves both APIs. */
export function asChatRequest(request: ResponsesRequest): ChatCompletionRequest {
  const messages: ChatMessage[] = request.instructions ? [{ role: 'system', content: request.instructions }] : [];
  const items = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
  for (const item of items) {
    const type = item.type ?? 'message';
    if (type === 'message') {
      messages.push({ role: item.role as ChatMessage['role'], content: textOf(item.content) });
    } else if (type === 'function_call') {
      const call = {
        id: String(item.call_id),
        type: 'function' as const,
        function: { name: String(item.name), arguments: String(item.arguments) },
      };
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: String(item.call_id), content: String(item.output) });
    }
  }
  const tools: ChatTool[] | undefined = request.tools?.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
  return {
    model: request.model,
    messages,
    ...(tools ? { tools, tool_choice: request.tool_choice } : {}),
    ...(request.max_output_tokens ? { max_completion_tokens: request.max_output_tokens } : {}),
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: { text?: string; refusal?: string }) => part.text ?? part.refusal ?? '').join('');
}

/** The Response object (and its output items) for a mock answer. */
export function responseObject(id: string, created: number, request: ResponsesRequest, answer: MockAnswer) {
  const text = answer.pieces.join('');
  const output: Array<Record<string, unknown>> = [];
  if (answer.toolCalls.length === 0) {
    output.push({
      id: `msg_${id.slice(5)}`,
      type: 'message',
      role: 'assistant',
      status: answer.finishReason === 'length' ? 'incomplete' : 'completed',
      content: [{ type: 'output_text', text, annotations: [] }],
    });
  }
  answer.toolCalls.forEach((call, index) =>
    output.push({
      id: `fc_${id.slice(5)}_${index}`,
      type: 'function_call',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: 'completed',
    }),
  );
  const incomplete = answer.finishReason === 'length';
  return {
    id,
    object: 'response',
    created_at: created,
    status: incomplete ? 'incomplete' : 'completed',
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    error: null,
    model: request.model,
    output,
    usage: {
      input_tokens: answer.usage.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: answer.usage.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: answer.usage.total_tokens,
    },
    store: false,
  };
}

/** OpenAI's event sequence for a mock answer (text answers; tool calls arrive whole). */
export function responseEvents(response: ReturnType<typeof responseObject>, answer: MockAnswer): object[] {
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null, incomplete_details: null };
  const events: object[] = [
    { type: 'response.created', response: inProgress },
    { type: 'response.in_progress', response: inProgress },
  ];
  response.output.forEach((item, outputIndex) => {
    if (item.type !== 'message') {
      events.push({
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: { ...item, status: 'in_progress' },
      });
      events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
      return;
    }
    const id = item.id as string;
    const text = answer.pieces.join('');
    events.push({
      type: 'response.output_item.added',
      output_index: outputIndex,
      item: { id, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
    });
    events.push({
      type: 'response.content_part.added',
      item_id: id,
      output_index: outputIndex,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const delta of answer.pieces) {
      events.push({
        type: 'response.output_text.delta',
        item_id: id,
        output_index: outputIndex,
        content_index: 0,
        delta,
      });
    }
    events.push({ type: 'response.output_text.done', item_id: id, output_index: outputIndex, content_index: 0, text });
    events.push({
      type: 'response.content_part.done',
      item_id: id,
      output_index: outputIndex,
      content_index: 0,
      part: { type: 'output_text', text, annotations: [] },
    });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  });
  events.push({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response });
  return events.map((event, index) => ({ ...event, sequence_number: index }));
}
