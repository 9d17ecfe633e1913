import { randomBytes } from 'node:crypto';
import { AppConfig } from '@app/config';
import { PrismaService } from '@app/database';
import { RedisService } from '@app/redis';
import {
  ConversationItem,
  DEFAULT_RESPONSE_PARAMS,
  EMPTY_USAGE,
  newItemId,
  newResponseId,
  ownerHashOf,
  ResponseCache,
  ResponseRepository,
  StoredResponse,
} from '@app/session-store';
import { Telemetry } from '@app/telemetry';

export const BENCH_KEY = 'sk-bench';
export const BENCH_OWNER = ownerHashOf(BENCH_KEY);

const QUESTION = 'Could you summarise the trade-offs between the two approaches we discussed, briefly?';
const ANSWER =
  'Certainly. The first approach favours simplicity and predictable latency; the second trades some of that ' +
  'for throughput under load. Pick the first unless measurements show the second is needed.';

/** The texts of turn `index`: the short ones, or padded so that question and answer make about `turnBytes`. */
function texts(index: number, turnBytes?: number): { question: string; answer: string } {
  const question = `${QUESTION} (${index})`;
  if (turnBytes === undefined) return { question, answer: ANSWER };
  const pad = (text: string, bytes: number) =>
    (text + ' ' + ANSWER.repeat(Math.ceil(bytes / ANSWER.length))).slice(0, bytes);
  return { question: pad(question, turnBytes / 2), answer: pad(ANSWER, turnBytes / 2) };
}

function turn(
  sessionId: string,
  parent: string | null,
  index: number,
  createdAt: number,
  turnBytes?: number,
): StoredResponse {
  const { question, answer } = texts(index, turnBytes);
  const input: ConversationItem[] = [
    {
      id: newItemId('msg'),
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: question }],
    },
  ];
  const output: ConversationItem[] = [
    {
      id: newItemId('msg'),
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: answer, annotations: [] }],
    },
  ];
  return {
    id: newResponseId(BENCH_OWNER, sessionId),
    sessionId,
    previousResponseId: parent,
    ownerHash: BENCH_OWNER,
    model: 'mock-gpt',
    store: true,
    input,
    instructions: null,
    output,
    params: DEFAULT_RESPONSE_PARAMS,
    metadata: {},
    status: 'completed',
    error: null,
    incompleteDetails: null,
    usage: { ...EMPTY_USAGE, input_tokens: 40, output_tokens: 45, total_tokens: 85 },
    historySource: 'none',
    createdAt,
    completedAt: createdAt,
    deletedAt: null,
  };
}

/** A chain of `depth` responses in a new session, oldest first (turns of about `turnBytes` when given). */
export function chain(depth: number, turnBytes?: number): StoredResponse[] {
  const sessionId = `sess_bench_${randomBytes(8).toString('hex')}`;
  const start = Date.now() - depth * 1000;
  const responses: StoredResponse[] = [];
  for (let index = 0; index < depth; index += 1) {
    responses.push(turn(sessionId, responses[index - 1]?.id ?? null, index, start + index * 1000, turnBytes));
  }
  return responses;
}

/**
 * Seeds `count` chains of `depth` into PostgreSQL, and into Redis too when `cache` is given.
 * Resolves the id of each chain's newest response (what a client continues).
 */
export async function seedChains(
  count: number,
  depth: number,
  repository: ResponseRepository,
  cache?: ResponseCache,
  turnBytes?: number,
): Promise<string[]> {
  const heads: string[] = [];
  let batch: StoredResponse[] = [];
  for (let index = 0; index < count; index += 1) {
    const responses = chain(depth, turnBytes);
    heads.push(responses[depth - 1]?.id ?? '');
    batch.push(...responses);
    if (cache) await cache.save(responses);
    if (batch.length >= 2_000) {
      await repository.insertMany(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await repository.insertMany(batch);
  return heads;
}

/** Bodies that continue the given chains in turn (each head once when there are as many as requests). */
export function continuing(heads: string[]): () => string {
  let next = 0;
  return () =>
    JSON.stringify({
      model: 'mock-gpt',
      input: 'And what would you measure first?',
      previous_response_id: heads[next++ % heads.length],
    });
}

/** The chat request the service sends upstream for a continuation of such a chain (the direct baseline). */
export function chatMessagesForChain(depth: number, turnBytes?: number): Array<{ role: string; content: string }> {
  const messages: Array<{ role: string; content: string }> = [];
  for (let index = 0; index < depth; index += 1) {
    const { question, answer } = texts(index, turnBytes);
    messages.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
  }
  messages.push({ role: 'user', content: 'And what would you measure first?' });
  return messages;
}

/** Seeds chains through the service's own store code (Redis too when `warm`); resolves their heads. */
export async function seedChainsFor(
  config: AppConfig,
  count: number,
  depth: number,
  warm: boolean,
  turnBytes?: number,
): Promise<string[]> {
  const telemetry = new Telemetry();
  const prisma = new PrismaService(config);
  const repository = new ResponseRepository(prisma);
  const redis = new RedisService(config, telemetry);
  await redis.onModuleInit();
  try {
    return await seedChains(count, depth, repository, warm ? new ResponseCache(redis, config) : undefined, turnBytes);
  } finally {
    await redis.onApplicationShutdown();
    await prisma.onApplicationShutdown();
  }
}
