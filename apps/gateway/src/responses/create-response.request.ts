import {
  INCLUDABLES,
  PROMPT_CACHE_RETENTIONS,
  REASONING_EFFORTS,
  REASONING_SUMMARIES,
  ReasoningConfig,
  ResponseParams,
  SERVICE_TIERS,
  TextFormat,
  TRUNCATIONS,
  VERBOSITIES,
} from '@app/session-store';
import { InputEntry, parseInput } from './request/input-items';
import {
  boolean,
  integerIn,
  invalid,
  isObject,
  Json,
  numberIn,
  oneOf,
  optional,
  positiveInteger,
  string,
} from './request/json-fields';
import { parseToolChoice, parseTools } from './request/tools';

/** A validated, normalised `POST /v1/responses` body. */
export interface CreateResponseRequest {
  model: string;
  /** Items, and references to stored items (ItemReferences resolves them). */
  input: InputEntry[];
  instructions: string | null;
  previousResponseId: string | null;
  /** The Conversations API conversation the turn continues and is appended to. */
  conversationId: string | null;
  store: boolean;
  stream: boolean;
  metadata: Record<string, string>;
  params: ResponseParams;
}

/** What the request may use depends on what the upstream speaks. */
export interface RequestContext {
  /** The upstream speaks the Responses API (hosted tools run there). */
  responsesUpstream: boolean;
}

const METADATA_MAX_KEYS = 16;
const METADATA_KEY_MAX = 64;
const METADATA_VALUE_MAX = 512;
/** Deepest nesting of objects and arrays accepted anywhere in a body (JSON schemas rarely pass 10). */
export const MAX_NESTING_DEPTH = 64;

/** Parses and normalises a create request; throws a 400 ApiError naming the parameter at fault. */
export function parseCreateResponseRequest(body: unknown, context: RequestContext): CreateResponseRequest {
  if (!isObject(body)) invalid('The request body must be a JSON object.', 'body');
  const tooDeep = pathBeyondDepth(body, MAX_NESTING_DEPTH);
  if (tooDeep !== null) {
    invalid(`Invalid '${tooDeep}': nested more than ${MAX_NESTING_DEPTH} levels deep.`, tooDeep);
  }
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') invalid("Missing required parameter: 'model'.", 'model');
  if (body.input === undefined || body.input === null) invalid("Missing required parameter: 'input'.", 'input');
  if (body.background === true) invalid('Background responses are not supported by this service.', 'background');

  const previousResponseId = optional(body, 'previous_response_id', string);
  if (previousResponseId !== null && previousResponseId.trim() === '') {
    invalid("Invalid 'previous_response_id': expected a non-empty string.", 'previous_response_id');
  }
  const conversationId = parseConversation(body, previousResponseId);
  const stream = optional(body, 'stream', boolean) ?? false;
  if (body.stream_options !== undefined && body.stream_options !== null)
    parseStreamOptions(body.stream_options, stream);
  const tools = optional(body, 'tools', (value, param) => parseTools(value, param, context.responsesUpstream)) ?? [];
  return {
    model,
    input: parseInput(body.input, context),
    instructions: optional(body, 'instructions', string),
    previousResponseId,
    conversationId,
    store: optional(body, 'store', boolean) ?? true,
    stream,
    metadata: optional(body, 'metadata', parseMetadata) ?? {},
    params: {
      temperature: optional(body, 'temperature', numberIn(0, 2)),
      top_p: optional(body, 'top_p', numberIn(0, 1)),
      max_output_tokens: optional(body, 'max_output_tokens', positiveInteger),
      tools,
      tool_choice: optional(body, 'tool_choice', (value, param) => parseToolChoice(value, param, tools)) ?? 'auto',
      parallel_tool_calls: optional(body, 'parallel_tool_calls', boolean) ?? true,
      user: optional(body, 'user', string),
      text: optional(body, 'text', parseText) ?? { format: { type: 'text' }, verbosity: null },
      truncation: optional(body, 'truncation', oneOf(TRUNCATIONS)) ?? 'disabled',
      reasoning: optional(body, 'reasoning', parseReasoning) ?? { effort: null, summary: null },
      service_tier: optional(body, 'service_tier', oneOf(SERVICE_TIERS)),
      prompt_cache_key: optional(body, 'prompt_cache_key', string),
      prompt_cache_retention: optional(body, 'prompt_cache_retention', oneOf(PROMPT_CACHE_RETENTIONS)),
      safety_identifier: optional(body, 'safety_identifier', string),
      top_logprobs: optional(body, 'top_logprobs', integerIn(0, 20)),
      include: optional(body, 'include', parseInclude) ?? [],
      max_tool_calls: optional(body, 'max_tool_calls', positiveInteger),
      presence_penalty: optional(body, 'presence_penalty', numberIn(-2, 2)),
      frequency_penalty: optional(body, 'frequency_penalty', numberIn(-2, 2)),
    },
  };
}

/** `conversation`: an id, or `{"id": ...}`; not together with `previous_response_id` (as OpenAI). */
function parseConversation(body: Json, previousResponseId: string | null): string | null {
  const value = body.conversation;
  if (value === undefined || value === null) return null;
  if (previousResponseId !== null) {
    invalid("'previous_response_id' cannot be used together with 'conversation'.", 'conversation');
  }
  const id = isObject(value) ? value.id : value;
  if (typeof id !== 'string' || id === '') {
    invalid('Invalid \'conversation\': expected a conversation id or {"id": ...}.', 'conversation');
  }
  return id;
}

function parseStreamOptions(value: unknown, stream: boolean): void {
  if (!isObject(value)) invalid("Invalid type for 'stream_options': expected an object.", 'stream_options');
  if (!stream) invalid("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
  optional(value, 'include_obfuscation', boolean, 'stream_options.include_obfuscation');
}

function parseReasoning(value: unknown, param: string): ReasoningConfig {
  if (!isObject(value)) invalid(`Invalid type for '${param}': expected an object.`, param);
  const summary =
    optional(value, 'summary', oneOf(REASONING_SUMMARIES), `${param}.summary`) ??
    optional(value, 'generate_summary', oneOf(REASONING_SUMMARIES), `${param}.generate_summary`);
  return { effort: optional(value, 'effort', oneOf(REASONING_EFFORTS), `${param}.effort`), summary };
}

function parseInclude(value: unknown, param: string): ResponseParams['include'] {
  if (!Array.isArray(value)) invalid(`Invalid type for '${param}': expected an array.`, param);
  const read = oneOf(INCLUDABLES);
  return [...new Set(value.map((entry, index) => read(entry, `${param}[${index}]`)))];
}

export function parseMetadata(value: unknown, param: string): Record<string, string> {
  if (!isObject(value)) invalid(`Invalid type for '${param}': expected an object of strings.`, param);
  const entries = Object.entries(value);
  if (entries.length > METADATA_MAX_KEYS) invalid(`Invalid '${param}': at most ${METADATA_MAX_KEYS} keys.`, param);
  for (const [key, entry] of entries) {
    if (key.length > METADATA_KEY_MAX)
      invalid(`Invalid '${param}': keys are at most ${METADATA_KEY_MAX} characters.`, param);
    if (typeof entry !== 'string' || entry.length > METADATA_VALUE_MAX) {
      invalid(
        `Invalid '${param}.${key}': expected a string of at most ${METADATA_VALUE_MAX} characters.`,
        `${param}.${key}`,
      );
    }
  }
  return value as Record<string, string>;
}

function parseText(value: unknown, param: string): ResponseParams['text'] {
  if (!isObject(value)) invalid(`Invalid type for '${param}': expected an object.`, param);
  return {
    format: optional(value, 'format', parseFormat, `${param}.format`) ?? { type: 'text' },
    verbosity: optional(value, 'verbosity', oneOf(VERBOSITIES), `${param}.verbosity`),
  };
}

function parseFormat(format: unknown, param: string): TextFormat {
  if (!isObject(format)) invalid(`Invalid '${param}': expected an object.`, param);
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type };
  if (format.type === 'json_schema') {
    if (typeof format.name !== 'string' || !isObject(format.schema)) {
      invalid(`Invalid '${param}': json_schema needs a name and a schema.`, param);
    }
    return {
      type: 'json_schema',
      name: format.name,
      schema: format.schema,
      ...(typeof format.description === 'string' ? { description: format.description } : {}),
      strict: typeof format.strict === 'boolean' ? format.strict : null,
    };
  }
  return invalid(`Invalid '${param}.type': expected text, json_object or json_schema.`, `${param}.type`);
}

/**
 * The parameter (its first three path segments, e.g. `tools[0].parameters`) under which `value` nests
 * deeper than `limit` objects and arrays, or null. Descends no deeper than the limit, so it cannot
 * overflow the stack whatever the input, and allocates nothing unless the limit is passed.
 */
function pathBeyondDepth(value: object, limit: number): string | null {
  if (!nestsBeyond(value, 1, limit)) return null;
  let path = '';
  let node: object = value;
  for (let depth = 1; depth <= 3; depth += 1) {
    const next = Object.entries(node).find(([, child]) => isNested(child) && nestsBeyond(child, depth + 1, limit));
    if (!next) break;
    path += Array.isArray(node) ? `[${next[0]}]` : depth === 1 ? next[0] : `.${next[0]}`;
    node = next[1] as object;
  }
  return path;
}

function isNested(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function nestsBeyond(node: object, depth: number, limit: number): boolean {
  if (depth > limit) return true;
  if (Array.isArray(node)) {
    for (const child of node) if (isNested(child) && nestsBeyond(child, depth + 1, limit)) return true;
    return false;
  }
  for (const key in node) {
    const child: unknown = (node as Json)[key];
    if (isNested(child) && nestsBeyond(child, depth + 1, limit)) return true;
  }
  return false;
}
