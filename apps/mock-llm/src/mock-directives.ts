import { ChatMessage } from './chat-types';
import { textOf } from './mock-answer';

/**
 * Per-request fault injection, written into the last user message so it travels through the
 * gateway unchanged: `[[mock:status=429]]`, `[[mock:latency=500]]`, `[[mock:abort-after=2]]`.
 */
export interface MockDirectives {
  status?: number;
  latencyMs?: number;
  /** Streaming: drop the connection after this many chunks; non-streaming: drop it before answering. */
  abortAfter?: number;
}

export function directivesIn(messages: ChatMessage[]): MockDirectives {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const text = textOf(lastUser?.content ?? '');
  const directives: MockDirectives = {};
  for (const [, name, value] of text.matchAll(/\[\[mock:([a-z-]+)=(\d+)\]\]/g)) {
    const number = Number(value);
    if (name === 'status') directives.status = number;
    if (name === 'latency') directives.latencyMs = number;
    if (name === 'abort-after') directives.abortAfter = number;
  }
  return directives;
}
