import { ConversationItem } from './response-items';
import { StoredResponse } from './stored-response';

/** Everything of a response but its content, with the number of content items that were input. */
type CachedMeta = Omit<StoredResponse, 'input' | 'output'> & { inputItems: number };

/**
 * A response as two JSON texts for Redis: its content (input then output items, what a chain
 * contributes to the history) and the rest. Resolving a chain then parses only content, about
 * half of each response (`npm run bench -- --saturation`, docs/performance.md).
 */
export function toCachedFields(response: StoredResponse): { meta: string; content: string } {
  const { input, output, ...rest } = response;
  const meta: CachedMeta = { ...rest, inputItems: input.length };
  return { meta: JSON.stringify(meta), content: JSON.stringify(input.concat(output)) };
}

export function fromCachedFields(meta: string, content: string): StoredResponse {
  const { inputItems, ...rest } = JSON.parse(meta) as CachedMeta;
  const items = JSON.parse(content) as ConversationItem[];
  return { ...rest, input: items.slice(0, inputItems), output: items.slice(inputItems) };
}

/** The history a cached response contributes: its input then output items. */
export function contentOf(content: string): ConversationItem[] {
  return JSON.parse(content) as ConversationItem[];
}
