import { ChatCompletionRequest } from './chat-types';
import { answerFor, historyDigest } from './mock-answer';
import { directivesIn } from './mock-directives';

function request(overrides: Partial<ChatCompletionRequest>): ChatCompletionRequest {
  return { model: 'mock-gpt', messages: [{ role: 'user', content: 'hello' }], ...overrides };
}

describe('answerFor', () => {
  it('answers deterministically with the turn number, the last user text and a digest of the history', () => {
    const messages: ChatCompletionRequest['messages'] = [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'text', text: 'second' }] },
    ];
    const answer = answerFor(request({ messages }));
    expect(answer.pieces.join('')).toBe(`Turn 2: you said "second" (3 messages, history ${historyDigest(messages)})`);
    expect(answerFor(request({ messages }))).toEqual(answer);
    expect(answer.finishReason).toBe('stop');
  });

  it('gives different digests for different histories', () => {
    const a = [{ role: 'user' as const, content: 'x' }];
    const b = [{ role: 'system' as const, content: 'be brief' }, ...a];
    expect(historyDigest(a)).not.toBe(historyDigest(b));
  });

  it('reports realistic usage whose total is prompt plus completion', () => {
    const { usage } = answerFor(request({}));
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('calls a function tool the user names, and answers its result on the next turn', () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather' } }];
    const call = answerFor(request({ tools, messages: [{ role: 'user', content: 'use get_weather for Paris' }] }));
    expect(call.finishReason).toBe('tool_calls');
    expect(call.toolCalls).toHaveLength(1);
    expect(call.toolCalls[0]?.function).toEqual({
      name: 'get_weather',
      arguments: JSON.stringify({ input: 'use get_weather for Paris' }),
    });

    const result = answerFor(
      request({
        tools,
        messages: [
          { role: 'user', content: 'use get_weather for Paris' },
          { role: 'assistant', content: null, tool_calls: call.toolCalls },
          { role: 'tool', tool_call_id: call.toolCalls[0]?.id, content: '18C and sunny' },
        ],
      }),
    );
    expect(result.pieces.join('')).toBe(`Tool ${call.toolCalls[0]?.id} returned: 18C and sunny`);
  });

  it('does not call tools when tool_choice is none', () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather' } }];
    const answer = answerFor(
      request({ tools, tool_choice: 'none', messages: [{ role: 'user', content: 'get_weather' }] }),
    );
    expect(answer.toolCalls).toEqual([]);
  });

  it('stops at max_completion_tokens with finish_reason length', () => {
    const answer = answerFor(request({ max_completion_tokens: 3 }));
    expect(answer.finishReason).toBe('length');
    expect(answer.usage.completion_tokens).toBeLessThanOrEqual(3);
  });
});

describe('directivesIn', () => {
  it('reads fault injections from the last user message only', () => {
    expect(
      directivesIn([
        { role: 'user', content: 'old [[mock:status=500]]' },
        { role: 'user', content: 'now [[mock:status=429]] [[mock:latency=20]] [[mock:abort-after=2]]' },
      ]),
    ).toEqual({ status: 429, latencyMs: 20, abortAfter: 2 });
    expect(directivesIn([{ role: 'user', content: 'plain' }])).toEqual({});
  });
});
