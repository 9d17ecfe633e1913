import { ContentPart, ConversationItem, newItemId, ToolOutputPart } from '@app/session-store';
import type { RequestContext } from '../create-response.request';
import { invalid, isObject, Json, requiredString } from './json-fields';

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'] as const;
const ITEM_TYPES = 'message, function_call, function_call_output, reasoning or item_reference';

/** `{"type": "item_reference", "id"}`: an item of an earlier stored response (or its input), resolved before use. */
export interface ItemReference {
  type: 'item_reference';
  id: string;
}

export type InputEntry = ConversationItem | ItemReference;

export function isItemReference(entry: InputEntry): entry is ItemReference {
  return entry.type === 'item_reference';
}

/** `input` as a string (one user message) or an array of input items. */
export function parseInput(input: unknown, context: RequestContext): InputEntry[] {
  if (typeof input === 'string') {
    return [{ id: newItemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  }
  if (!Array.isArray(input))
    invalid("Invalid type for 'input': expected a string or an array of input items.", 'input');
  if (input.length === 0) invalid("Invalid 'input': expected at least one item.", 'input');
  const items = input.map((item, index) => parseItem(item, `input[${index}]`));
  if (!context.responsesUpstream) refuseFileIds(items);
  return items;
}

/** Uploaded files live in an upstream that speaks the Responses API (or OpenAI itself); Chat Completions gateways cannot resolve them. */
function refuseFileIds(items: InputEntry[]): void {
  items.forEach((item, index) => {
    const parts =
      item.type === 'message'
        ? item.content
        : item.type === 'function_call_output' && Array.isArray(item.output)
          ? item.output
          : [];
    const at = parts.findIndex((part) => part.type === 'input_file' && part.file_id !== undefined);
    if (at !== -1) {
      const where = item.type === 'message' ? 'content' : 'output';
      invalid(
        `Invalid 'input[${index}].${where}[${at}].file_id': files by id need an upstream that speaks the Responses API (UPSTREAM_API=responses); send the file as file_data or file_url.`,
        `input[${index}].${where}[${at}].file_id`,
      );
    }
  });
}

function parseItem(item: unknown, param: string): InputEntry {
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
        output: parseToolOutput(item.output, `${param}.output`),
        status: 'completed',
      };
    case 'reasoning':
      return parseReasoning(item, param, id);
    case 'item_reference':
      return { type: 'item_reference', id: requiredString(item, 'id', param) };
    default:
      return invalid(
        `Invalid '${param}.type': ${JSON.stringify(type)} is not supported; use ${ITEM_TYPES}.`,
        `${param}.type`,
      );
  }
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
      return parseImage(part, param);
    case 'input_file':
      return parseFile(part, param);
    default:
      return invalid(
        `Invalid '${param}.type': ${JSON.stringify(part.type)} is not supported; use input_text, output_text, refusal, input_image or input_file.`,
        `${param}.type`,
      );
  }
}

function parseImage(part: Json, param: string): ContentPart {
  if (typeof part.image_url !== 'string' && typeof part.file_id !== 'string') {
    invalid(`Invalid '${param}': input_image needs an image_url or a file_id.`, param);
  }
  return {
    type: 'input_image',
    ...(typeof part.image_url === 'string' ? { image_url: part.image_url } : {}),
    ...(typeof part.file_id === 'string' ? { file_id: part.file_id } : {}),
    detail: typeof part.detail === 'string' ? part.detail : 'auto',
  };
}

/** `input_file`: exactly one of file_data (a data URL or base64), file_url or file_id; an optional filename. */
function parseFile(part: Json, param: string): ContentPart {
  const sources = (['file_data', 'file_url', 'file_id'] as const).filter((key) => part[key] !== undefined);
  if (sources.length !== 1) {
    invalid(`Invalid '${param}': input_file needs exactly one of file_data, file_url or file_id.`, param);
  }
  const [source] = sources as ['file_data' | 'file_url' | 'file_id'];
  const value = part[source];
  if (typeof value !== 'string' || value === '') {
    invalid(`Invalid '${param}.${source}': expected a non-empty string.`, `${param}.${source}`);
  }
  if (part.filename !== undefined && typeof part.filename !== 'string') {
    invalid(`Invalid '${param}.filename': expected a string.`, `${param}.filename`);
  }
  return {
    type: 'input_file',
    [source]: value,
    ...(typeof part.filename === 'string' ? { filename: part.filename } : {}),
  };
}

/** A function call's output: a string, or an array of input_text, input_image and input_file parts. */
function parseToolOutput(output: unknown, param: string): string | ToolOutputPart[] {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) {
    return invalid(`Invalid '${param}': expected a string or an array of content parts.`, param);
  }
  return output.map((part, index) => {
    const at = `${param}[${index}]`;
    const parsed = parsePart(part, at);
    if (parsed.type === 'output_text' || parsed.type === 'refusal') {
      invalid(
        `Invalid '${at}.type': a function call output holds input_text, input_image or input_file.`,
        `${at}.type`,
      );
    }
    return parsed;
  });
}

function parseReasoning(item: Json, param: string, id: string | undefined): ConversationItem {
  if (!Array.isArray(item.summary)) invalid(`Invalid '${param}.summary': expected an array.`, `${param}.summary`);
  const summary = item.summary.map((entry, index) => {
    const at = `${param}.summary[${index}]`;
    if (!isObject(entry) || entry.type !== 'summary_text' || typeof entry.text !== 'string') {
      invalid(`Invalid '${at}': expected {"type": "summary_text", "text": ...}.`, at);
    }
    return { type: 'summary_text' as const, text: entry.text };
  });
  if (item.encrypted_content !== undefined && item.encrypted_content !== null) {
    if (typeof item.encrypted_content !== 'string') {
      invalid(`Invalid '${param}.encrypted_content': expected a string.`, `${param}.encrypted_content`);
    }
  }
  return {
    id: id ?? newItemId('rs'),
    type: 'reasoning',
    summary,
    ...(typeof item.encrypted_content === 'string' ? { encrypted_content: item.encrypted_content } : {}),
  };
}
