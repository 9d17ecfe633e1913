/** The Chat Completions wire format, as far as this service speaks it upstream. */
export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: 'file'; file: { file_data?: string; file_id?: string; filename?: string } };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'developer' | 'user'; content: string | ChatContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[]; refusal?: string | null }
  | { role: 'tool'; tool_call_id: string; content: string | Array<{ type: 'text'; text: string }> };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  temperature?: number;
  top_p?: number;
  max_completion_tokens?: number;
  tools?: Array<{
    type: 'function';
    function: { name: string; description?: string; parameters?: unknown; strict?: boolean };
  }>;
  tool_choice?:
    | 'none'
    | 'auto'
    | 'required'
    | { type: 'function'; function: { name: string } }
    | {
        type: 'allowed_tools';
        allowed_tools: { mode: 'auto' | 'required'; tools: Array<{ type: 'function'; function: { name: string } }> };
      };
  parallel_tool_calls?: boolean;
  user?: string;
  response_format?: unknown;
  reasoning_effort?: string;
  verbosity?: string;
  service_tier?: string;
  prompt_cache_key?: string;
  prompt_cache_retention?: string;
  safety_identifier?: string;
  logprobs?: boolean;
  top_logprobs?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** `logprobs.content` of a choice: one entry per output token. */
export interface ChatTokenLogprob {
  token: string;
  bytes?: number[] | null;
  logprob: number;
  top_logprobs?: Array<{ token: string; bytes?: number[] | null; logprob: number }> | null;
}

export interface ChatCompletion {
  id?: string;
  choices?: Array<{
    message?: { content?: string | null; refusal?: string | null; tool_calls?: ChatToolCall[] | null };
    finish_reason?: string | null;
    logprobs?: { content?: ChatTokenLogprob[] | null } | null;
  }>;
  usage?: ChatUsage | null;
  service_tier?: string | null;
}

export interface ChatToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

export interface ChatChunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: ChatToolCallDelta[] | null;
    };
    finish_reason?: string | null;
    logprobs?: { content?: ChatTokenLogprob[] | null } | null;
  }>;
  usage?: ChatUsage | null;
  service_tier?: string | null;
  error?: { message?: string; type?: string; code?: string | null };
}
