/** OpenAI Responses API items as this service stores and returns them (text and function calling). */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}
/** One output token's log probability, as the Responses API shows it (with `include` or `top_logprobs`). */
export interface TokenLogprob {
  token: string;
  bytes: number[];
  logprob: number;
  top_logprobs: Array<{ token: string; bytes: number[]; logprob: number }>;
}

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: TokenLogprob[];
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
export interface InputFilePart {
  type: 'input_file';
  file_data?: string;
  file_url?: string;
  file_id?: string;
  filename?: string;
}
export type ContentPart = InputTextPart | OutputTextPart | RefusalPart | InputImagePart | InputFilePart;
/** What a function call's output may hold besides a string. */
export type ToolOutputPart = InputTextPart | InputImagePart | InputFilePart;

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
  output: string | ToolOutputPart[];
  status?: 'in_progress' | 'completed' | 'incomplete';
}

/** A reasoning model's reasoning: kept for a `responses` upstream, left out of Chat Completions requests. */
export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  summary: Array<{ type: 'summary_text'; text: string }>;
  content?: Array<{ type: 'reasoning_text'; text: string }>;
  encrypted_content?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete';
}

export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem;

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

/**
 * A tool the upstream runs itself (`web_search`, `file_search`, `code_interpreter`, `mcp`, …): passed
 * through unchanged to a `responses` upstream, refused in chat mode.
 */
export interface HostedTool {
  type: string;
  [field: string]: unknown;
}

export type Tool = FunctionTool | HostedTool;

export function isFunctionTool(tool: Tool): tool is FunctionTool {
  return tool.type === 'function';
}

export type ToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  /** Forcing a hosted tool (`{"type": "web_search"}`, …): `responses` upstreams only. */
  | { type: string; [field: string]: unknown };

export interface TextFormat {
  type: 'text' | 'json_object' | 'json_schema';
  name?: string;
  schema?: Record<string, unknown>;
  description?: string;
  strict?: boolean | null;
}

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export const REASONING_SUMMARIES = ['auto', 'concise', 'detailed'] as const;
export const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority'] as const;
export const VERBOSITIES = ['low', 'medium', 'high'] as const;
export const TRUNCATIONS = ['auto', 'disabled'] as const;
export const PROMPT_CACHE_RETENTIONS = ['in_memory', '24h'] as const;
/** What `include` may ask for (OpenAI's list); `message.output_text.logprobs` is applied in every mode. */
export const INCLUDABLES = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;

export type ServiceTier = (typeof SERVICE_TIERS)[number];

export interface ReasoningConfig {
  effort: (typeof REASONING_EFFORTS)[number] | null;
  summary: (typeof REASONING_SUMMARIES)[number] | null;
}

/**
 * Request parameters a Response object echoes back. Those marked optional were added later: entries
 * stored before them lack them and read as OpenAI's defaults.
 */
export interface ResponseParams {
  temperature: number | null;
  top_p: number | null;
  max_output_tokens: number | null;
  tools: Tool[];
  tool_choice: ToolChoice;
  parallel_tool_calls: boolean;
  user: string | null;
  text: { format: TextFormat; verbosity?: (typeof VERBOSITIES)[number] | null };
  truncation?: (typeof TRUNCATIONS)[number];
  reasoning?: ReasoningConfig;
  service_tier?: ServiceTier | null;
  prompt_cache_key?: string | null;
  prompt_cache_retention?: (typeof PROMPT_CACHE_RETENTIONS)[number] | null;
  safety_identifier?: string | null;
  top_logprobs?: number | null;
  include?: Array<(typeof INCLUDABLES)[number]>;
  max_tool_calls?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
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
  text: { format: { type: 'text' }, verbosity: null },
  truncation: 'disabled',
  reasoning: { effort: null, summary: null },
  service_tier: null,
  prompt_cache_key: null,
  prompt_cache_retention: null,
  safety_identifier: null,
  top_logprobs: null,
  include: [],
  max_tool_calls: null,
  presence_penalty: null,
  frequency_penalty: null,
};
