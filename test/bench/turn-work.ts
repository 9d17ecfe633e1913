/**
 * The data work of one warm 10-turn turn, in one process with no I/O: the service's own functions (request
 * parsed and validated, the cached chain's JSON parsed, the chat request built and serialised, the chat answer
 * turned into the response, the response serialised for Redis, its history items and the Response object)
 * against what the I/O floor (io-floor.ts) does for the same turn. CPU µs per turn, several passes each:
 * tells whether the service's cost above the I/O floor is in this work or in the per-request plumbing around it.
 *
 *   npx tsx --tsconfig tsconfig.json test/bench/turn-work.ts [--turns=20000]
 */
import { ConversationItem, historyItems, StoredResponse } from '@app/session-store';
import { parseCreateResponseRequest } from '../../apps/gateway/src/responses/create-response.request';
import { toResponseObject } from '../../apps/gateway/src/responses/response-object';
import { chatCompletionResult } from '../../apps/gateway/src/responses/upstream/chat-result';
import { toChatRequest } from '../../apps/gateway/src/responses/upstream/chat-request';
import { newItemId, newResponseId, tagOfResponseId } from '../../libs/session-store/src/ids';
import { BENCH_OWNER, chain } from './fixtures';

const TURNS = Number(process.argv.find((arg) => arg.startsWith('--turns='))?.slice('--turns='.length) ?? 20_000);
const PASSES = 3;

interface FloorItem {
  id: string;
  type: 'message';
  role: string;
  content: Array<{ type: string; text: string }>;
}

const ancestors = chain(10);
const parent = ancestors[ancestors.length - 1];
const cachedChain = ancestors.map((response) => JSON.stringify(response));
const requestBody = JSON.stringify({
  model: 'mock-gpt',
  input: 'Tell me more about that.',
  previous_response_id: parent.id,
});
const chatAnswer = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'mock-gpt',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'An answer of about the length the mock gives, a sentence or two long.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 40, completion_tokens: 45, total_tokens: 85 },
});

/** Returns the bytes it produced, so that none of the work can be optimised away. */
function serviceTurn(): number {
  const request = parseCreateResponseRequest(JSON.parse(requestBody), { responsesUpstream: false });
  const history = cachedChain.flatMap((json) => historyItems(JSON.parse(json) as StoredResponse));
  const input = request.input as ConversationItem[];
  const id = newResponseId(BENCH_OWNER, parent.sessionId);
  const draft: StoredResponse = {
    ...parent,
    id,
    previousResponseId: parent.id,
    input,
    output: [],
    status: 'in_progress',
    createdAt: Date.now(),
  };
  const conversation = [...history, ...input];
  const chat = JSON.stringify(toChatRequest(request.model, request.instructions, conversation, request.params, false));
  const result = chatCompletionResult(JSON.parse(chatAnswer), tagOfResponseId(id));
  const response: StoredResponse = { ...draft, ...result, completedAt: Date.now() };
  const cached = JSON.stringify(response);
  const items = JSON.stringify(historyItems(response));
  const wire = JSON.stringify(toResponseObject(response));
  return chat.length + cached.length + items.length + wire.length;
}

function ioFloorTurn(): number {
  const body = JSON.parse(requestBody) as { model: string; input: string };
  const history = cachedChain.flatMap((json) => historyItems(JSON.parse(json) as StoredResponse)) as FloorItem[];
  const id = newResponseId(BENCH_OWNER, parent.sessionId);
  const tag = tagOfResponseId(id) ?? '';
  const input: FloorItem[] = [
    { id: newItemId('msg', tag), type: 'message', role: 'user', content: [{ type: 'input_text', text: body.input }] },
  ];
  const messages = [...history, ...input].map((item) => ({
    role: item.role,
    content: item.content.map((part) => part.text).join(''),
  }));
  const chat = JSON.stringify({ model: body.model, messages });
  const completion = JSON.parse(chatAnswer) as {
    choices: Array<{ message: { content: string } }>;
    usage: Record<string, number>;
  };
  const output: FloorItem[] = [
    {
      id: newItemId('msg', tag),
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: completion.choices[0]?.message.content ?? '' }],
    },
  ];
  const response = {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: body.model,
    previous_response_id: parent.id,
    output,
    usage: completion.usage,
  };
  const cached = JSON.stringify(response);
  const items = JSON.stringify([...input, ...output]);
  const row = JSON.stringify(input).length + JSON.stringify(output).length;
  return chat.length + cached.length + items.length + row;
}

/** CPU µs per turn over TURNS turns, after as many to warm up. */
function cpuPerTurn(turn: () => number): number {
  let produced = 0;
  for (let index = 0; index < TURNS; index += 1) produced += turn();
  const before = process.cpuUsage();
  for (let index = 0; index < TURNS; index += 1) produced += turn();
  const used = process.cpuUsage(before);
  if (produced === 0) throw new Error('no work done');
  return (used.user + used.system) / TURNS;
}

const lines = ['| pass | service µs per turn | I/O floor µs per turn | ratio |', '|---:|---:|---:|---:|'];
for (let pass = 1; pass <= PASSES; pass += 1) {
  const service = cpuPerTurn(serviceTurn);
  const floor = cpuPerTurn(ioFloorTurn);
  lines.push(`| ${pass} | ${service.toFixed(1)} | ${floor.toFixed(1)} | ${(service / floor).toFixed(2)}× |`);
}
console.log(lines.join('\n'));
