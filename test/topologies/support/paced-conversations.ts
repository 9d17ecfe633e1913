import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendTurn, TurnOutcome } from '../../faults/support/turns';

/** One turn as a client saw it, and when it was sent. */
export interface TurnRecord {
  conversation: string;
  turn: number;
  sentAt: number;
  outcome: TurnOutcome;
}

/**
 * Short chained conversations, one after another on each of `loops` loops, turns alternating between
 * the replicas, for as long as the test runs (a failover happens meanwhile). Each answer must say which
 * turn it is ("Turn <n>:", from the mock upstream's view of the history), so a shortened history shows.
 */
export class PacedConversations {
  readonly turns: TurnRecord[] = [];
  /** First attempts answered `history_incomplete` (retried once, as the SDKs do). */
  readonly retried: TurnRecord[] = [];
  private running?: Promise<void>;
  private stopped = false;

  start(urls: string[], options: { loops: number; turnsEach: number; pauseMs: number }): void {
    const loops = Array.from({ length: options.loops }, async () => {
      while (!this.stopped) await this.conversation(urls, options.turnsEach, options.pauseMs);
    });
    this.running = Promise.all(loops).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Turns a client saw fail (any status but a completed 200), and turns answered with a shortened history. */
  problems(): string[] {
    return this.turns.flatMap(({ conversation, turn, outcome }) => {
      if (!outcome.id) return [`${conversation} turn ${turn}: ${outcome.status} ${JSON.stringify(outcome.error)}`];
      if (!outcome.text?.startsWith(`Turn ${turn}:`)) return [`${conversation} turn ${turn}: got "${outcome.text}"`];
      return [];
    });
  }

  /** Conversations whose first turn was sent after `time`, each as its turns in order. */
  conversationsStartedAfter(time: number): TurnRecord[][] {
    const byConversation = new Map<string, TurnRecord[]>();
    for (const record of this.turns) {
      const turns = byConversation.get(record.conversation) ?? [];
      turns.push(record);
      byConversation.set(record.conversation, turns);
    }
    return [...byConversation.values()].filter((turns) => turns[0] !== undefined && turns[0].sentAt > time);
  }

  private async conversation(urls: string[], turns: number, pauseMs: number): Promise<void> {
    const conversation = randomBytes(4).toString('hex');
    let previous: string | undefined;
    for (let turn = 1; turn <= turns && !this.stopped; turn += 1) {
      const sentAt = Date.now();
      const url = urls[(turn - 1) % urls.length] ?? '';
      const request = { input: `${conversation} says ${turn}`, previous };
      let outcome = await sendTurn(url, request);
      // An ancestor acknowledged just before a failover can be lost with the old master and be in no store for a
      // moment, until the replica that holds it in its writer's queue has written it: a 503 the openai SDKs retry
      // after its Retry-After, as here. Recorded, so a test can bound when it happens.
      if (outcome.status === 503 && outcome.error?.code === 'history_incomplete') {
        this.retried.push({ conversation, turn, sentAt, outcome });
        await sleep(1000 * Number(outcome.retryAfter ?? 1));
        outcome = await sendTurn(url, request);
      }
      this.turns.push({ conversation, turn, sentAt, outcome });
      if (!outcome.id) return;
      previous = outcome.id;
      await sleep(pauseMs);
    }
  }
}
