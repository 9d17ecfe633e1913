import type { Response as SdkResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { WireResponse } from './response-object';

/** One server-sent event of a streamed response: `event: <type>` + `data: <json>`. */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

/**
 * The fields of an event this service makes, as the `openai` package types each event (numbered when
 * emitted), with the Response object as it is on the wire: building one that does not match its
 * type's event does not compile.
 */
export type EventFields = WireFields<ResponseStreamEvent>;
type WireFields<E> = E extends { response: SdkResponse }
  ? Omit<E, 'response' | 'sequence_number'> & { response: WireResponse }
  : Omit<E, 'sequence_number'>;

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export function isTerminal(event: StreamEvent): boolean {
  return TERMINAL.has(event.type);
}

/** SSE framing as OpenAI sends it. */
export function toSse(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
