import { DEFAULT_RESPONSE_PARAMS } from '@app/session-store';
import { ApiError } from '../common/api-error';
import { parseCreateResponseRequest } from './create-response.request';

/** As a service with a Chat Completions upstream parses it. */
const parse = (body: unknown) => parseCreateResponseRequest(body, { responsesUpstream: false });

function rejection(body: unknown): { param: string | null; message: string } {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof ApiError)
      return (error.getResponse() as { error: { param: string | null; message: string } }).error;
    throw error;
  }
  throw new Error('expected a 400');
}

describe('parseCreateResponseRequest', () => {
  it('turns a string input into one user message and applies OpenAI defaults', () => {
    const request = parse({ model: 'm', input: 'hi' });
    expect(request.input).toEqual([
      {
        id: expect.stringMatching(/^msg_/) as unknown,
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'hi' }],
      },
    ]);
    expect(request).toMatchObject({
      store: true,
      stream: false,
      instructions: null,
      previousResponseId: null,
      metadata: {},
    });
    expect(request.params).toEqual(DEFAULT_RESPONSE_PARAMS);
  });

  it('normalises message content strings into parts: input_text for users, output_text for the assistant', () => {
    const request = parse({
      model: 'm',
      input: [
        { role: 'user', content: 'q' },
        { type: 'message', role: 'assistant', content: 'a' },
        { role: 'developer', content: [{ type: 'input_text', text: 'd' }] },
      ],
    });
    expect(request.input.map((item) => (item.type === 'message' ? [item.role, item.content] : item.type))).toEqual([
      ['user', [{ type: 'input_text', text: 'q' }]],
      ['assistant', [{ type: 'output_text', text: 'a', annotations: [] }]],
      ['developer', [{ type: 'input_text', text: 'd' }]],
    ]);
  });

  it('keeps function calls and their outputs, and ids the client gave', () => {
    const request = parse({
      model: 'm',
      input: [
        { type: 'function_call', id: 'fc_given', call_id: 'call_1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'ok' },
      ],
    });
    expect(request.input[0]).toMatchObject({ id: 'fc_given', type: 'function_call', call_id: 'call_1', name: 'f' });
    expect(request.input[1]).toMatchObject({ type: 'function_call_output', call_id: 'call_1', output: 'ok' });
  });

  it('reads function tools, a named tool choice and a json_schema text format', () => {
    const request = parse({
      model: 'm',
      input: 'x',
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'lookup' },
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
    });
    expect(request.params.tools).toEqual([
      { type: 'function', name: 'lookup', description: null, parameters: { type: 'object' }, strict: null },
    ]);
    expect(request.params.tool_choice).toEqual({ type: 'function', name: 'lookup' });
    expect(request.params.text.format).toEqual({
      type: 'json_schema',
      name: 'out',
      schema: { type: 'object' },
      strict: true,
    });
  });

  it.each([
    [null, 'body'],
    [{ input: 'x' }, 'model'],
    [
      { model: 'm', input: 'x', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata',
    ],
    [{ model: 'm', input: 'x', metadata: { k: 'v'.repeat(513) } }, 'metadata.k'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'input[0].content[0].type'],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, 'input[0].content[0]'],
    [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'bad name!' }] }, 'tools[0].name'],
    [{ model: 'm', input: 'x', text: { format: { type: 'yaml' } } }, 'text.format.type'],
    [{ model: 'm', input: 'x', background: true }, 'background'],
  ])('rejects %j naming %s', (body, param) => {
    expect(rejection(body).param).toBe(param);
  });
});
