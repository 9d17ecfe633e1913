import type { ResponseCreateParamsNonStreaming, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { postRaw, ResponsesBed } from './support/responses-bed';
import { wireResponseProblems } from './support/wire-response';

/** Every request field the Responses API defines, set to something other than its default. */
const EVERY_FIELD: Omit<ResponseCreateParamsNonStreaming, 'model' | 'input'> = {
  truncation: 'auto',
  reasoning: { effort: 'low', summary: 'auto' },
  text: { verbosity: 'low' },
  service_tier: 'flex',
  prompt_cache_key: 'cache-key-7',
  prompt_cache_retention: '24h',
  safety_identifier: 'user-hash-42',
  top_logprobs: 2,
  include: ['message.output_text.logprobs'],
  // In OpenAI's API reference, not (yet) in this SDK version's parameter type: sent as extra body fields.
  ...{ max_tool_calls: 3, presence_penalty: 0.5, frequency_penalty: 0.25 },
};

describe('the Response object and request fields, as OpenAI defines them (Chat Completions upstream)', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('renders every field of the Response in the JSON reply, every streamed Response and GET', async () => {
    const client = bed.client();
    const created = await client.responses.create({ model: 'mock-gpt', input: 'hello' });
    expect(wireResponseProblems(created)).toEqual([]);
    expect(created.completed_at).toBeGreaterThanOrEqual(created.created_at);

    const stream = await client.responses.create({
      model: 'mock-gpt',
      input: 'again',
      previous_response_id: created.id,
      stream: true,
    });
    const withResponse: Array<Extract<ResponseStreamEvent, { response: unknown }>> = [];
    for await (const event of stream) if ('response' in event) withResponse.push(event);
    expect(withResponse.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.completed',
    ]);
    for (const event of withResponse) expect(wireResponseProblems(event.response)).toEqual([]);

    expect(wireResponseProblems(await client.responses.retrieve(created.id))).toEqual([]);
  });

  it('maps every field with a Chat Completions counterpart, and echoes each one as sent', async () => {
    const client = bed.client();
    const response = await client.responses.create({ model: 'mock-gpt', input: 'all fields', ...EVERY_FIELD });
    expect(wireResponseProblems(response)).toEqual([]);
    expect(response).toMatchObject({
      truncation: 'auto',
      reasoning: { effort: 'low', summary: 'auto' },
      text: { format: { type: 'text' }, verbosity: 'low' },
      service_tier: 'flex',
      prompt_cache_key: 'cache-key-7',
      prompt_cache_retention: '24h',
      safety_identifier: 'user-hash-42',
      top_logprobs: 2,
      max_tool_calls: 3,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
    });
    const sent = (await bed.upstreamRequests()).at(-1)?.body;
    expect(sent).toMatchObject({
      reasoning_effort: 'low',
      verbosity: 'low',
      service_tier: 'flex',
      prompt_cache_key: 'cache-key-7',
      prompt_cache_retention: '24h',
      safety_identifier: 'user-hash-42',
      logprobs: true,
      top_logprobs: 2,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
    });
    // No Chat Completions counterpart: echoed, not sent.
    expect(sent).not.toHaveProperty('truncation');
    expect(sent).not.toHaveProperty('max_tool_calls');
  });

  it('fills in the logprobs the upstream returned, in the reply and in every streamed text event', async () => {
    const client = bed.client();
    const response = await client.responses.create({
      model: 'mock-gpt',
      input: 'with logprobs',
      include: ['message.output_text.logprobs'],
      top_logprobs: 2,
    });
    const message = response.output[0];
    if (message?.type !== 'message' || message.content[0]?.type !== 'output_text') throw new Error('no text');
    const logprobs = message.content[0].logprobs ?? [];
    expect(logprobs.map((entry) => entry.token).join('')).toBe(response.output_text);
    expect(logprobs[0]).toMatchObject({ logprob: expect.any(Number), bytes: expect.any(Array) });
    expect(logprobs[0]?.top_logprobs).toHaveLength(2);

    const stream = await client.responses.create({
      model: 'mock-gpt',
      input: 'streamed logprobs',
      include: ['message.output_text.logprobs'],
      stream: true,
    });
    let deltas = '';
    let fromLogprobs = '';
    let done: unknown[] = [];
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') {
        deltas += event.delta;
        fromLogprobs += event.logprobs.map((entry) => entry.token).join('');
      }
      if (event.type === 'response.output_text.done') done = event.logprobs ?? [];
    }
    expect(fromLogprobs).toBe(deltas);
    expect(done.length).toBeGreaterThan(0);
  });

  it.each([
    ['truncation', { truncation: 'sometimes' }, 'truncation'],
    ['reasoning.effort', { reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
    ['reasoning.summary', { reasoning: { summary: 'long' } }, 'reasoning.summary'],
    ['text.verbosity', { text: { verbosity: 'loud' } }, 'text.verbosity'],
    ['service_tier', { service_tier: 'gold' }, 'service_tier'],
    ['prompt_cache_retention', { prompt_cache_retention: 'forever' }, 'prompt_cache_retention'],
    ['include', { include: ['everything'] }, 'include[0]'],
    ['top_logprobs', { top_logprobs: 21 }, 'top_logprobs'],
    ['max_tool_calls', { max_tool_calls: 0 }, 'max_tool_calls'],
    ['presence_penalty', { presence_penalty: 3 }, 'presence_penalty'],
    ['stream_options without stream', { stream_options: { include_obfuscation: false } }, 'stream_options'],
    ['conversation (not an id)', { conversation: { name: 'x' } }, 'conversation'],
    [
      'conversation with previous_response_id',
      { conversation: 'conv_1', previous_response_id: 'resp_x' },
      'conversation',
    ],
    ['a hosted tool in chat mode', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
  ])('refuses a bad %s with 400 naming the parameter', async (_, fields, param) => {
    const reply = await postRaw(bed.gateway.url, JSON.stringify({ model: 'mock-gpt', input: 'x', ...fields }));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
  });
});

describe('input items beyond text (Chat Completions upstream)', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('sends input_file parts as Chat Completions file parts (data, or a URL as the file id), and refuses file ids', async () => {
    const client = bed.client();
    await client.responses.create({
      model: 'mock-gpt',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'read these' },
            { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
            { type: 'input_file', file_url: 'https://example.com/b.pdf' },
          ],
        },
      ],
    });
    const [message] = (await bed.lastUpstreamMessages()).slice(-1);
    expect(message?.content).toEqual([
      { type: 'text', text: 'read these' },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
      { type: 'file', file: { file_id: 'https://example.com/b.pdf' } },
    ]);

    const refused = await postRaw(
      bed.gateway.url,
      JSON.stringify({
        model: 'mock-gpt',
        input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-abc' }] }],
      }),
    );
    expect(refused).toMatchObject({ status: 400, body: { error: { param: 'input[0].content[0].file_id' } } });
    expect(refused.body.error?.message).toContain('UPSTREAM_API=responses');
  });

  it('takes a function_call_output whose output is an array of parts, and leaves reasoning items out upstream', async () => {
    const client = bed.client();
    const response = await client.responses.create({
      model: 'mock-gpt',
      input: [
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }] },
        { type: 'function_call', call_id: 'call_1', name: 'look', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'call_1',
          output: [
            { type: 'input_text', text: 'it is sunny' },
            { type: 'input_image', image_url: 'https://example.com/sun.png' },
          ],
        },
      ],
    });
    expect(response.status).toBe('completed');
    const messages = await bed.lastUpstreamMessages();
    expect(messages).toEqual([
      { role: 'assistant', content: null, tool_calls: [expect.objectContaining({ id: 'call_1' })] },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'it is sunny' }] },
      {
        role: 'user',
        content: [{ type: 'image_url', image_url: { url: 'https://example.com/sun.png', detail: 'auto' } }],
      },
    ]);
    const items = await client.responses.inputItems.list(response.id);
    expect(items.data.map((item) => item.type)).toEqual(['function_call_output', 'function_call', 'reasoning']);
  });
});

describe('item_reference (as the Vercel AI SDK sends earlier output with store on)', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  async function referring(apiKey: string, id: string) {
    return bed.client(apiKey).responses.create({
      model: 'mock-gpt',
      input: [
        { role: 'user', content: 'first question' },
        { type: 'item_reference', id },
        { role: 'user', content: 'follow-up' },
      ],
    });
  }

  it('resolves output items of the owner’s stored responses: from Redis, then from PostgreSQL', async () => {
    const first = await bed.client().responses.create({ model: 'mock-gpt', input: 'first question' });
    const [answer] = first.output;
    if (answer?.type !== 'message' || !answer.id) throw new Error('no message');
    // The answer's id carries its session's tag, and the session's item index places it.
    const tag = first.id.slice(5, 21);
    expect(answer.id.slice(4, 20)).toBe(tag);
    expect(await bed.redis.hget(`${bed.prefix}:{${tag}}:i`, answer.id)).toBe(first.id);

    const second = await referring('sk-tenant-a', answer.id);
    expect(second.output_text).toMatch(/^Turn 2:/);
    expect((await bed.lastUpstreamMessages()).map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect((await bed.lastUpstreamMessages())[1]?.content).toBe(first.output_text);
    const stored = await bed.client().responses.inputItems.list(second.id, { order: 'asc' });
    expect(stored.data[1]).toMatchObject({ id: answer.id, type: 'message', role: 'assistant' });

    await bed.writer.flush();
    await bed.forgetRedis();
    expect((await referring('sk-tenant-a', answer.id)).output_text).toMatch(/^Turn 2:/);
  });

  it('answers 400 naming the entry for an unknown item, or another tenant’s', async () => {
    const mine = await bed.client().responses.create({ model: 'mock-gpt', input: 'private' });
    const id = mine.output[0]?.id ?? '';
    await expect(referring('sk-tenant-b', id)).rejects.toMatchObject({
      status: 400,
      error: { param: 'input[1].id', message: `Item with id '${id}' not found.` },
    });
    await expect(referring('sk-tenant-a', 'msg_unknown')).rejects.toMatchObject({
      status: 400,
      error: { param: 'input[1].id' },
    });
  });
});

describe('UPSTREAM_API=responses: fields and hosted tools pass through', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ UPSTREAM_API: 'responses' })));
  afterAll(() => bed.close());

  it('passes every field, hosted tools and reasoning items to the upstream unchanged', async () => {
    const client = bed.client();
    const response = await client.responses.create({
      model: 'mock-gpt',
      input: [
        { type: 'reasoning', id: 'rs_9', summary: [], encrypted_content: 'opaque' },
        { role: 'user', content: 'search please' },
      ],
      tools: [{ type: 'web_search' }],
      ...EVERY_FIELD,
    });
    expect(wireResponseProblems(response)).toEqual([]);
    expect(response.tools).toEqual([{ type: 'web_search' }]);
    const sent: Record<string, unknown> = { ...(await bed.upstreamRequests()).at(-1)?.responsesBody };
    expect(sent).toMatchObject({ ...EVERY_FIELD, text: { format: { type: 'text' }, verbosity: 'low' } });
    expect(sent.tools).toEqual([{ type: 'web_search' }]);
    expect((sent.input as unknown[])[0]).toEqual({
      id: 'rs_9',
      type: 'reasoning',
      summary: [],
      encrypted_content: 'opaque',
    });
  });

  it('gives the upstream’s output items ids of ours (the same in every event), so item_reference finds them in Redis', async () => {
    const client = bed.client();
    const stream = await client.responses.create({ model: 'mock-gpt', input: 'stream ids', stream: true });
    const named = new Set<string>();
    let final: string[] = [];
    for await (const event of stream) {
      if ('item_id' in event) named.add(event.item_id);
      if (event.type === 'response.output_item.added' && event.item.id) named.add(event.item.id);
      if (event.type === 'response.completed') final = event.response.output.map((item) => item.id ?? '');
    }
    expect([...named]).toEqual(final);
    const [answer] = final;
    const created = await client.responses.create({
      model: 'mock-gpt',
      input: [
        { role: 'user', content: 'stream ids' },
        { type: 'item_reference', id: answer ?? '' },
        { role: 'user', content: 'next' },
      ],
    });
    expect(created.output_text).toMatch(/^Turn 2:/);
    expect(await bed.redis.hget(`${bed.prefix}:{${answer?.slice(4, 20)}}:i`, answer ?? '')).toMatch(/^resp_/);
  });
});
