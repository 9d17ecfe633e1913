import { randomBytes } from 'node:crypto';

/** What a client saw of one turn. */
export interface TurnOutcome {
  status: number;
  /** Set when the client saw the response complete (a 200 JSON body, or `response.completed`). */
  id?: string;
  /** The assistant's text, when completed. */
  text?: string;
  error?: { code?: string | null; message?: string };
  retryAfter?: string | null;
  /** The connection broke (a killed process, a cut stream). */
  broken?: boolean;
  /** Where the history came from (`x-session-cache`: hit, partial, db, miss, none). */
  cache?: string | null;
}

export interface TurnRequest {
  input: string;
  previous?: string;
  stream?: boolean;
  store?: boolean;
  apiKey?: string;
  sessionId?: string;
}

/** One `POST /v1/responses` the way an SDK sends it; never throws. */
export async function sendTurn(baseUrl: string, request: TurnRequest): Promise<TurnOutcome> {
  const body = {
    model: 'mock-gpt',
    input: request.input,
    ...(request.previous ? { previous_response_id: request.previous } : {}),
    ...(request.stream ? { stream: true } : {}),
    ...(request.store === false ? { store: false } : {}),
  };
  try {
    const response = await fetch(`${baseUrl}/v1/responses`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${request.apiKey ?? 'sk-faults'}`,
        ...(request.sessionId ? { 'x-session-id': request.sessionId } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const retryAfter = response.headers.get('retry-after');
    const cache = response.headers.get('x-session-cache');
    if (response.status !== 200) {
      const parsed = JSON.parse(text) as { error?: TurnOutcome['error'] };
      return { status: response.status, error: parsed.error, retryAfter, cache };
    }
    const final = request.stream ? terminalEvent(text) : (JSON.parse(text) as ResponseBody);
    if (!final) return { status: 200, broken: true, cache };
    if (final.status !== 'completed') return { status: 200, error: final.error ?? { message: final.status }, cache };
    return { status: 200, id: final.id, text: final.output?.[0]?.content?.[0]?.text, cache };
  } catch {
    return { status: 0, broken: true };
  }
}

interface ResponseBody {
  id: string;
  status: string;
  error?: { code?: string | null; message?: string } | null;
  output?: Array<{ content?: Array<{ text?: string }> }>;
}

/** The Response of a stream's terminal event, or undefined when the stream ended without one. */
function terminalEvent(sse: string): ResponseBody | undefined {
  for (const block of sse.split('\n\n')) {
    const type = /^event: (.+)$/m.exec(block)?.[1];
    if (type !== 'response.completed' && type !== 'response.failed' && type !== 'response.incomplete') continue;
    const data = /^data: (.+)$/m.exec(block)?.[1];
    return data ? (JSON.parse(data) as { response: ResponseBody }).response : undefined;
  }
  return undefined;
}

/** A turn the client saw complete: the response id and which turn of its conversation it was. */
export interface Acknowledged {
  id: string;
  turn: number;
  conversation: string;
}

/**
 * Chained conversations as agents hold them: each turn continues the previous one, on the next of
 * `urls` (one replica, or alternating replicas), streamed or not. Every turn's answer must say which
 * turn it is ("Turn <n>:", from the mock upstream's view of the history), so a shortened history shows.
 */
export class ConversationLoad {
  readonly acknowledged: Acknowledged[] = [];
  readonly failures: TurnOutcome[] = [];
  readonly wrongHistories: string[] = [];
  /** Turns after the first whose history did not come from Redis alone (`x-session-cache` other than hit). */
  readonly notFromCache: string[] = [];
  private stopped = false;

  /** Runs `conversations` loops of up to `turns` turns each until stopped or a turn fails. */
  run(urls: string[], options: { conversations: number; turns: number; streamEvery?: number }): Promise<void> {
    const loops = Array.from({ length: options.conversations }, (_, index) =>
      this.conversation(urls, options.turns, options.streamEvery !== undefined && index % options.streamEvery === 0),
    );
    return Promise.all(loops).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
  }

  /** The newest acknowledged turn of each conversation. */
  lastTurns(): Acknowledged[] {
    const last = new Map<string, Acknowledged>();
    for (const turn of this.acknowledged) last.set(turn.conversation, turn);
    return [...last.values()];
  }

  private async conversation(urls: string[], turns: number, stream: boolean): Promise<void> {
    const conversation = randomBytes(4).toString('hex');
    let previous: string | undefined;
    for (let turn = 1; turn <= turns && !this.stopped; turn += 1) {
      const url = urls[(turn - 1) % urls.length];
      const outcome = await sendTurn(url, { input: `${conversation} says ${turn}`, previous, stream });
      if (!outcome.id) {
        this.failures.push(outcome);
        return;
      }
      if (!outcome.text?.startsWith(`Turn ${turn}:`)) {
        this.wrongHistories.push(`${outcome.id}: expected turn ${turn}, got "${outcome.text}"`);
      }
      if (turn > 1 && outcome.cache !== 'hit') this.notFromCache.push(`${outcome.id}: turn ${turn}, ${outcome.cache}`);
      this.acknowledged.push({ id: outcome.id, turn, conversation });
      previous = outcome.id;
    }
  }
}
