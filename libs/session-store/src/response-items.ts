/** OpenAI Responses API items as this service stores and returns them (text and function calling). */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}
export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}
export interface InputImagePart {
  type: 'input_image';
  image_url?: string;
  file_id?: string;
  detail?: string;
}
export type ContentPart = InputTextPart | OutputTextPart | RefusalPart | InputImagePart;

export interface MessageItem {
  id: string;
  type: 'message';
  role: 'user' | 'assistant' | 'system' | 'developer';
  status?: 'in_progress' | 'completed' | 'incomplete';
  content: ContentPart[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export interface FunctionCallOutputItem {
  id: string;
  type: 'function_call_output';
  call_id: string;
  output: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export interface TextFormat {
  type: 'text' | 'json_object' | 'json_schema';
  name?: string;
  schema?: Record<string, unknown>;
  description?: string;
  strict?: boolean | null;
}

/** Request parameters a Response object echoes back. */
export interface ResponseParams {
  temperature: number | null;
  top_p: number | null;
  max_output_tokens: number | null;
  tools: FunctionTool[];
  tool_choice: ToolChoice;
  parallel_tool_calls: boolean;
  user: string | null;
  text: { format: TextFormat };
}

/** Usage from the counts an upstream reported; missing ones are 0, a missing total is input + output. */
export function usageFrom(counts: {
  input?: number;
  output?: number;
  cached?: number;
  reasoning?: number;
  total?: number;
}): ResponseUsage {
  const input = counts.input ?? 0;
  const output = counts.output ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: counts.cached ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: counts.reasoning ?? 0 },
    total_tokens: counts.total ?? input + output,
  };
}

export const EMPTY_USAGE: ResponseUsage = {
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
};

/** What a request that sets none of them gets (OpenAI's defaults). */
export const DEFAULT_RESPONSE_PARAMS: ResponseParams = {
  temperature: null,
  top_p: null,
  max_output_tokens: null,
  tools: [],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  user: null,
  text: { format: { type: 'text' } },
};
