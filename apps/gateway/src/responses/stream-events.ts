/** One server-sent event of a streamed response: `event: <type>` + `data: <json>`. */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export function isTerminal(event: StreamEvent): boolean {
  return TERMINAL.has(event.type);
}

/** SSE framing as OpenAI sends it. */
export function toSse(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
