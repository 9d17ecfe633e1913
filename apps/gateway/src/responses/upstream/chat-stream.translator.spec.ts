import { DEFAULT_RESPONSE_PARAMS, EMPTY_USAGE, StoredResponse } from '@app/session-store';
import { wireResponseProblems } from '../../../../../test/support/wire-response';
import { ChatStreamTranslator } from './chat-stream.translator';

const draft: StoredResponse = {
  id: 'resp_x',
  sessionId: 's',
  previousResponseId: null,
  ownerHash: 'o',
  model: 'm',
  store: true,
  input: [],
  instructions: null,
  output: [],
  params: DEFAULT_RESPONSE_PARAMS,
  metadata: {},
  status: 'in_progress',
  error: null,
  incompleteDetails: null,
  usage: EMPTY_USAGE,
  historySource: 'none',
  createdAt: 0,
  completedAt: null,
  deletedAt: null,
};

describe('ChatStreamTranslator', () => {
  it('emits text deltas as they come, then closes the message and completes with usage', () => {
    const t = new ChatStreamTranslator(draft);
    const events = [
      ...t.start(),
      ...t.push({ choices: [{ delta: { content: 'Hel' } }] }),
      ...t.push({ choices: [{ delta: { content: 'lo' }, finish_reason: 'stop' }] }),
      ...t.push({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
    ];
    const end = t.complete();
    const all = [...events, ...end.events];
    expect(all.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect(all.find((e) => e.type === 'response.output_text.done')).toMatchObject({ text: 'Hello' });
    expect(end.final).toMatchObject({
      status: 'completed',
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
    });
    expect(end.final.output).toEqual([
      expect.objectContaining({
        type: 'message',
        status: 'completed',
        content: [expect.objectContaining({ text: 'Hello' })],
      }),
    ]);
  });

  it('builds function calls from fragmented tool_call deltas', () => {
    const t = new ChatStreamTranslator(draft);
    t.start();
    t.push({
      choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'get', arguments: '{"a"' } }] } }],
    });
    const deltas = t.push({
      choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: 'tool_calls' }],
    });
    expect(deltas).toEqual([expect.objectContaining({ type: 'response.function_call_arguments.delta', delta: ':1}' })]);
    const end = t.complete();
    expect(end.events.map((e) => e.type)).toEqual([
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(end.final.output).toEqual([
      expect.objectContaining({
        type: 'function_call',
        call_id: 'call_1',
        name: 'get',
        arguments: '{"a":1}',
        status: 'completed',
      }),
    ]);
  });

  it('ends a length stop as response.incomplete', () => {
    const t = new ChatStreamTranslator(draft);
    t.start();
    t.push({ choices: [{ delta: { content: 'cut' }, finish_reason: 'length' }] });
    const end = t.complete();
    expect(end.events.at(-1)?.type).toBe('response.incomplete');
    expect(end.final).toMatchObject({ status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } });
  });

  it('ends a failure as response.failed, keeping what arrived', () => {
    const t = new ChatStreamTranslator(draft);
    t.start();
    t.push({ choices: [{ delta: { content: 'part' } }] });
    const end = t.fail('upstream_error', 'gone');
    expect(end.events.map((e) => e.type)).toEqual(['response.failed']);
    expect(end.final).toMatchObject({ status: 'failed', error: { code: 'upstream_error', message: 'gone' } });
  });

  it('carries a whole wire Response in every event that has one, failures with an OpenAI error code', () => {
    const t = new ChatStreamTranslator(draft, '0123456789abcdef');
    const events = [
      ...t.start(),
      ...t.push({ choices: [{ delta: { content: 'x' } }] }),
      ...t.fail('upstream_error', 'gone').events,
    ];
    const responses = events.flatMap((event) => ('response' in event ? [event.response] : []));
    expect(responses).toHaveLength(3);
    for (const response of responses) expect(wireResponseProblems(response)).toEqual([]);
    expect(responses.at(-1)).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'gone' } });
    // Items produced in a session carry its tag (item_reference finds them in one round trip).
    expect(events.find((event) => event.type === 'response.output_item.added')).toMatchObject({
      item: { id: expect.stringMatching(/^msg_0123456789abcdef[0-9a-f]{32}$/) },
    });
  });
});
