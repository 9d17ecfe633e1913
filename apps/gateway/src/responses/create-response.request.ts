import {
  ContentPart,
  ConversationItem,
  FunctionTool,
  newItemId,
  ResponseParams,
  TextFormat,
  ToolChoice,
} from '@app/session-store';
import { ApiError } from '../common/api-error';

/** A validated, normalised `POST /v1/responses` body. */
export interface CreateResponseRequest {
  model: string;
  input: ConversationItem[];
  instructions: string | null;
  previousResponseId: string | null;
  store: boolean;
  stream: boolean;
  metadata: Record<string, string>;
  params: ResponseParams;
}

type Json = Record<string, unknown>;

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'] as const;
const METADATA_MAX_KEYS = 16;
const METADATA_KEY_MAX = 64;
const METADATA_VALUE_MAX = 512;
/** Deepest nesting of objects and arrays accepted anywhere in a body (JSON schemas rarely pass 10). */
export const MAX_NESTING_DEPTH = 64;

function invalid(message: string, param: string): never {
  throw ApiError.invalidRequest(message, param);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optional<T>(body: Json, key: string, read: (value: unknown, param: string) => T): T | null {
  const value = body[key];
  return value === undefined || value === null ? null : read(value, key);
}

function string(value: unknown, param: string): string {
  if (typeof value !== 'string') invalid(`Invalid type for '${param}': expected a string.`, param);
  return value;
}

function boolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') invalid(`Invalid type for '${param}': expected a boolean.`, param);
  return value;
}

function numberIn(min: number, max: number) {
  return (value: unknown, param: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      invalid(`Invalid type for '${param}': expected a number.`, param);
    if (value < min || value > max) invalid(`Invalid '${param}': expected a value between ${min} and ${max}.`, param);
    return value;
  };
}

function positiveInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    invalid(`Invalid '${param}': expected a positive integer.`, param);
  }
  return value;
}

/** Parses and normalises a create request; throws a 400 ApiError naming the parameter at fault. */
export function parseCreateResponseRequest(body: unknown): CreateResponseRequest {
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
  const tools = optional(body, 'tools', parseTools) ?? [];
  return {
    model,
    input: parseInput(body.input),
    instructions: optional(body, 'instructions', string),
    previousResponseId,
    store: optional(body, 'store', boolean) ?? true,
    stream: optional(body, 'stream', boolean) ?? false,
    metadata: optional(body, 'metadata', parseMetadata) ?? {},
    params: {
      temperature: optional(body, 'temperature', numberIn(0, 2)),
      top_p: optional(body, 'top_p', numberIn(0, 1)),
      max_output_tokens: optional(body, 'max_output_tokens', positiveInteger),
      tools,
      tool_choice: optional(body, 'tool_choice', (value, param) => parseToolChoice(value, param, tools)) ?? 'auto',
      parallel_tool_calls: optional(body, 'parallel_tool_calls', boolean) ?? true,
      user: optional(body, 'user', string),
      text: { format: optional(body, 'text', parseText) ?? { type: 'text' } },
    },
  };
}

function parseInput(input: unknown): ConversationItem[] {
  if (typeof input === 'string') {
    return [{ id: newItemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  }
  if (!Array.isArray(input))
    invalid("Invalid type for 'input': expected a string or an array of input items.", 'input');
  if (input.length === 0) invalid("Invalid 'input': expected at least one item.", 'input');
  return input.map((item, index) => parseItem(item, `input[${index}]`));
}

function parseItem(item: unknown, param: string): ConversationItem {
  if (!isObject(item)) invalid(`Invalid '${param}': expected an object.`, param);
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  const id = typeof item.id === 'string' && item.id !== '' ? item.id : undefined;
  switch (type) {
    case 'message':
      return parseMessage(item, param, id);
    case 'function_call':
      return {
        id: id ?? newItemId('fc'),
        type: 'function_call',
        call_id: requiredString(item, 'call_id', param),
        name: requiredString(item, 'name', param),
        arguments: requiredString(item, 'arguments', param),
        status: 'completed',
      };
    case 'function_call_output':
      return {
        id: id ?? newItemId('fco'),
        type: 'function_call_output',
        call_id: requiredString(item, 'call_id', param),
        output:
          typeof item.output === 'string'
            ? item.output
            : invalid(`Invalid '${param}.output': expected a string.`, `${param}.output`),
        status: 'completed',
      };
    default:
      return invalid(
        `Invalid '${param}.type': ${JSON.stringify(type)} is not supported; use message, function_call or function_call_output.`,
        `${param}.type`,
      );
  }
}

function requiredString(item: Json, key: string, param: string): string {
  const value = item[key];
  if (typeof value !== 'string' || value === '')
    invalid(`Missing required parameter: '${param}.${key}'.`, `${param}.${key}`);
  return value;
}

function parseMessage(item: Json, param: string, id: string | undefined): ConversationItem {
  const role = item.role;
  if (typeof role !== 'string' || !(MESSAGE_ROLES as readonly string[]).includes(role)) {
    invalid(`Invalid '${param}.role': expected one of ${MESSAGE_ROLES.join(', ')}.`, `${param}.role`);
  }
  const typedRole = role as (typeof MESSAGE_ROLES)[number];
  const textType = typedRole === 'assistant' ? 'output_text' : 'input_text';
  const content = item.content;
  let parts: ContentPart[];
  if (typeof content === 'string') {
    parts = [textPart(textType, content)];
  } else if (Array.isArray(content)) {
    parts = content.map((part, index) => parsePart(part, `${param}.content[${index}]`));
  } else {
    return invalid(`Invalid '${param}.content': expected a string or an array of content parts.`, `${param}.content`);
  }
  return { id: id ?? newItemId('msg'), type: 'message', role: typedRole, status: 'completed', content: parts };
}

function textPart(type: 'input_text' | 'output_text', text: string): ContentPart {
  return type === 'output_text' ? { type, text, annotations: [] } : { type, text };
}

function parsePart(part: unknown, param: string): ContentPart {
  if (!isObject(part)) invalid(`Invalid '${param}': expected an object.`, param);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      if (typeof part.text !== 'string') invalid(`Invalid '${param}.text': expected a string.`, `${param}.text`);
      return textPart(part.type, part.text);
    case 'refusal':
      if (typeof part.refusal !== 'string')
        invalid(`Invalid '${param}.refusal': expected a string.`, `${param}.refusal`);
      return { type: 'refusal', refusal: part.refusal };
    case 'input_image':
      if (typeof part.image_url !== 'string' && typeof part.file_id !== 'string') {
        invalid(`Invalid '${param}': input_image needs an image_url or a file_id.`, param);
      }
      return {
        type: 'input_image',
        ...(typeof part.image_url === 'string' ? { image_url: part.image_url } : {}),
        ...(typeof part.file_id === 'string' ? { file_id: part.file_id } : {}),
        detail: typeof part.detail === 'string' ? part.detail : 'auto',
      };
    default:
      return invalid(
        `Invalid '${param}.type': ${JSON.stringify(part.type)} is not supported; use input_text, output_text, refusal or input_image.`,
        `${param}.type`,
      );
  }
}

function parseMetadata(value: unknown, param: string): Record<string, string> {
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

function parseTools(value: unknown, param: string): FunctionTool[] {
  if (!Array.isArray(value)) invalid(`Invalid type for '${param}': expected an array.`, param);
  return value.map((tool, index) => {
    const at = `${param}[${index}]`;
    if (!isObject(tool)) invalid(`Invalid '${at}': expected an object.`, at);
    if (tool.type !== 'function') {
      invalid(
        `Invalid '${at}.type': only function tools are supported, got ${JSON.stringify(tool.type)}.`,
        `${at}.type`,
      );
    }
    const name = tool.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      invalid(`Invalid '${at}.name': expected 1-64 letters, digits, _ or -.`, `${at}.name`);
    }
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) {
      invalid(`Invalid '${at}.parameters': expected a JSON schema object.`, `${at}.parameters`);
    }
    return {
      type: 'function',
      name,
      description: typeof tool.description === 'string' ? tool.description : null,
      parameters: isObject(tool.parameters) ? tool.parameters : null,
      strict: typeof tool.strict === 'boolean' ? tool.strict : null,
    };
  });
}

function parseToolChoice(value: unknown, param: string, tools: FunctionTool[]): ToolChoice {
  if (value === 'none' || value === 'auto' || value === 'required') return value;
  if (isObject(value) && value.type === 'function' && typeof value.name === 'string') {
    if (!tools.some((tool) => tool.name === value.name)) {
      invalid(`Invalid '${param}': no function named '${value.name}' in 'tools'.`, param);
    }
    return { type: 'function', name: value.name };
  }
  return invalid(`Invalid '${param}': expected none, auto, required or {"type":"function","name":...}.`, param);
}

function parseText(value: unknown, param: string): TextFormat {
  if (!isObject(value)) invalid(`Invalid type for '${param}': expected an object.`, param);
  const format = value.format;
  if (format === undefined || format === null) return { type: 'text' };
  if (!isObject(format)) invalid(`Invalid '${param}.format': expected an object.`, `${param}.format`);
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type };
  if (format.type === 'json_schema') {
    if (typeof format.name !== 'string' || !isObject(format.schema)) {
      invalid(`Invalid '${param}.format': json_schema needs a name and a schema.`, `${param}.format`);
    }
    return {
      type: 'json_schema',
      name: format.name,
      schema: format.schema,
      ...(typeof format.description === 'string' ? { description: format.description } : {}),
      strict: typeof format.strict === 'boolean' ? format.strict : null,
    };
  }
  return invalid(`Invalid '${param}.format.type': expected text, json_object or json_schema.`, `${param}.format.type`);
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
