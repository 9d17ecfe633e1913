import { ConversationItem, DEFAULT_RESPONSE_PARAMS, ResponseParams } from '@app/session-store';
import { toChatRequest } from './chat-request';

const params: ResponseParams = DEFAULT_RESPONSE_PARAMS;

const user = (text: string): ConversationItem => ({
  id: 'm',
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});
const assistant = (text: string): ConversationItem => ({
  id: 'a',
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});

describe('toChatRequest', () => {
  it('puts instructions first as the system message, then the conversation in order', () => {
    const request = toChatRequest('m', 'Be kind.', [user('q1'), assistant('a1'), user('q2')], params, false);
    expect(request).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be kind.' },
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
        { role: 'user', content: 'q2' },
      ],
    });
  });

  it('joins parallel function calls into one assistant message (after its text) and maps outputs to tool messages', () => {
    const conversation: ConversationItem[] = [
      user('weather?'),
      assistant('Checking.'),
      { id: 'f1', type: 'function_call', call_id: 'c1', name: 'w', arguments: '{"city":"A"}' },
      { id: 'f2', type: 'function_call', call_id: 'c2', name: 'w', arguments: '{"city":"B"}' },
      { id: 'o1', type: 'function_call_output', call_id: 'c1', output: 'sun' },
      { id: 'o2', type: 'function_call_output', call_id: 'c2', output: 'rain' },
    ];
    expect(toChatRequest('m', null, conversation, params, false).messages).toEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'w', arguments: '{"city":"A"}' } },
          { id: 'c2', type: 'function', function: { name: 'w', arguments: '{"city":"B"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'sun' },
      { role: 'tool', tool_call_id: 'c2', content: 'rain' },
    ]);
  });

  it('maps sampling, limits, tools and formats to their Chat Completions names, and asks for usage when streaming', () => {
    const request = toChatRequest(
      'm',
      null,
      [user('x')],
      {
        ...params,
        temperature: 0.3,
        top_p: 0.9,
        max_output_tokens: 50,
        user: 'u',
        tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'f' },
        parallel_tool_calls: false,
        text: { format: { type: 'json_object' } },
      },
      true,
    );
    expect(request).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 50,
      user: 'u',
      tools: [
        { type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true } },
      ],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
    });
  });

  it('sends images as image_url parts', () => {
    const request = toChatRequest(
      'm',
      null,
      [
        {
          id: 'm',
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'what is this?' },
            { type: 'input_image', image_url: 'https://x/cat.png', detail: 'low' },
          ],
        },
      ],
      params,
      false,
    );
    expect(request.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'https://x/cat.png', detail: 'low' } },
      ],
    });
  });

  it('puts images tools returned after the whole run of tool messages, never between them', () => {
    const call = (id: string): ConversationItem => ({
      id,
      type: 'function_call',
      call_id: id,
      name: 'f',
      arguments: '{}',
    });
    const request = toChatRequest(
      'm',
      null,
      [
        user('go'),
        call('c1'),
        call('c2'),
        {
          id: 'o1',
          type: 'function_call_output',
          call_id: 'c1',
          output: [{ type: 'input_image', image_url: 'https://x/1.png', detail: 'auto' }],
        },
        { id: 'o2', type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
      params,
      false,
    );
    expect(request.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'user']);
    expect(request.messages[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: '' });
    expect(request.messages[4]).toEqual({
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'https://x/1.png', detail: 'auto' } }],
    });
  });

  it('maps an allowed_tools choice to its Chat Completions form', () => {
    const request = toChatRequest(
      'm',
      null,
      [user('q')],
      {
        ...params,
        tools: [{ type: 'function', name: 'f' }],
        tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] },
      },
      false,
    );
    expect(request.tool_choice).toEqual({
      type: 'allowed_tools',
      allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'f' } }] },
    });
  });
});
