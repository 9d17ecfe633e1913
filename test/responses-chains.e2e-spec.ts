import { ResponsesBed } from './support/responses-bed';

/** Conversations through the official SDK, checking what the upstream received turn by turn. */
describe('Responses API: previous_response_id chains', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ SPEND_LOG_FLUSH_INTERVAL_MS: '10000' })));
  afterAll(() => bed.close());

  it('answers a first turn with a complete Response object and a session id', async () => {
    const { data: response, response: raw } = await bed
      .client()
      .responses.create({
        model: 'mock-gpt',
        input: 'hello',
        instructions: 'Be brief.',
        metadata: { topic: 'greeting' },
      })
      .withResponse();
    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'mock-gpt',
      previous_response_id: null,
      instructions: 'Be brief.',
      store: true,
      metadata: { topic: 'greeting' },
      error: null,
      incomplete_details: null,
    });
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(response.output[0]?.id).toMatch(/^msg_/);
    expect(response.output_text).toMatch(/^Turn 1: you said "hello" \(2 messages/);
    expect(response.usage?.total_tokens).toBe(
      (response.usage?.input_tokens ?? 0) + (response.usage?.output_tokens ?? 0),
    );
    expect(raw.headers.get('x-session-id')).toMatch(/^sess_[0-9a-f]{32}$/);
    expect(raw.headers.get('x-session-cache')).toBe('none');
    expect(await bed.lastUpstreamMessages()).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('sends the full history on a three-turn chain continued the instant each answer arrives, instructions not carried over', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'one', instructions: 'Rule A.' });
    const second = await client.responses.create({ model: 'mock-gpt', input: 'two', previous_response_id: first.id });
    const { data: third, response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'three', previous_response_id: second.id, instructions: 'Rule C.' })
      .withResponse();

    expect(await bed.lastUpstreamMessages()).toEqual([
      { role: 'system', content: 'Rule C.' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: first.output_text },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: second.output_text },
      { role: 'user', content: 'three' },
    ]);
    expect(third.previous_response_id).toBe(second.id);
    expect(third.output_text).toMatch(/^Turn 3: you said "three"/);
    expect(raw.headers.get('x-session-cache')).toBe('hit');
    // Nothing reached PostgreSQL yet: the chain came from Redis.
    expect(await bed.spendLog(first.id)).toBeUndefined();
  });

  it('keeps forks apart: two children of one parent have separate histories', async () => {
    const client = bed.client();
    const root = await client.responses.create({ model: 'mock-gpt', input: 'root' });
    const left = await client.responses.create({ model: 'mock-gpt', input: 'left', previous_response_id: root.id });
    const right = await client.responses.create({ model: 'mock-gpt', input: 'right', previous_response_id: root.id });
    await client.responses.create({ model: 'mock-gpt', input: 'after left', previous_response_id: left.id });
    const afterLeft = await bed.lastUpstreamMessages();
    await client.responses.create({ model: 'mock-gpt', input: 'after right', previous_response_id: right.id });
    const afterRight = await bed.lastUpstreamMessages();

    const users = (messages: Array<{ role: string; content?: unknown }>) =>
      messages.filter((m) => m.role === 'user').map((m) => m.content);
    expect(users(afterLeft)).toEqual(['root', 'left', 'after left']);
    expect(users(afterRight)).toEqual(['root', 'right', 'after right']);
  });

  it('gives descendants the session of their root, and takes a root session id from x-session-id or metadata', async () => {
    const client = bed.client();
    const { data: root, response: rootRaw } = await client.responses
      .create({ model: 'mock-gpt', input: 'a' }, { headers: { 'x-session-id': 'team-chat-42' } })
      .withResponse();
    expect(rootRaw.headers.get('x-session-id')).toBe('team-chat-42');
    const { response: childRaw } = await client.responses
      .create({ model: 'mock-gpt', input: 'b', previous_response_id: root.id })
      .withResponse();
    expect(childRaw.headers.get('x-session-id')).toBe('team-chat-42');

    const { response: metaRaw } = await client.responses
      .create({ model: 'mock-gpt', input: 'c', metadata: { session_id: 'from-metadata' } })
      .withResponse();
    expect(metaRaw.headers.get('x-session-id')).toBe('from-metadata');
  });

  it('does not keep store:false responses: they cannot be continued or retrieved, and their row has no content', async () => {
    const client = bed.client();
    const response = await client.responses.create({ model: 'mock-gpt', input: 'secret', store: false });
    expect((response as unknown as { store: boolean }).store).toBe(false);
    await expect(
      client.responses.create({ model: 'mock-gpt', input: 'next', previous_response_id: response.id }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message: `Previous response with id '${response.id}' not found.`,
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    });
    await expect(client.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
    expect(await bed.hasCached(response.id)).toBe(false);

    await bed.writer.flush();
    const row = await bed.spendLog(response.id);
    expect(row).toMatchObject({ store: false, status: 'completed', input: null, output: null });
    expect(row?.total_tokens).toBe(response.usage?.total_tokens);
  });

  it('calls functions and continues with their output, mapped to tool_calls and tool messages upstream', async () => {
    const client = bed.client();
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        description: 'Weather by city',
        parameters: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] },
        strict: false,
      },
    ];
    const call = await client.responses.create({ model: 'mock-gpt', input: 'use get_weather for Paris', tools });
    const item = call.output.find((entry) => entry.type === 'function_call');
    expect(item).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (item?.type !== 'function_call') throw new Error('expected a function call');
    expect(JSON.parse(item.arguments)).toEqual({ input: 'use get_weather for Paris' });

    const answer = await client.responses.create({
      model: 'mock-gpt',
      previous_response_id: call.id,
      tools,
      input: [{ type: 'function_call_output', call_id: item.call_id, output: '18C and sunny' }],
    });
    expect(answer.output_text).toBe(`Tool ${item.call_id} returned: 18C and sunny`);
    const messages = await bed.lastUpstreamMessages();
    expect(messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: item.call_id, type: 'function', function: { name: 'get_weather', arguments: item.arguments } },
        ],
      },
      { role: 'tool', tool_call_id: item.call_id, content: '18C and sunny' },
    ]);
    const sent = (await bed.upstreamRequests()).at(-1)?.body;
    expect(sent?.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather by city',
          parameters: tools[0]?.parameters,
          strict: false,
        },
      },
    ]);
  });

  it('maps max_output_tokens to max_completion_tokens and a length stop to an incomplete response', async () => {
    const response = await bed
      .client()
      .responses.create({ model: 'mock-gpt', input: 'tell me more', max_output_tokens: 3 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect((await bed.upstreamRequests()).at(-1)?.body.max_completion_tokens).toBe(3);
    // An incomplete response can still be continued.
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'go on', previous_response_id: response.id }),
    ).resolves.toMatchObject({ status: 'completed' });
  });

  it('passes the caller key upstream', async () => {
    await bed.client('sk-tenant-z').responses.create({ model: 'mock-gpt', input: 'who am i' });
    expect((await bed.upstreamRequests()).at(-1)?.authorization).toBe('Bearer sk-tenant-z');
  });
});

describe('Responses API with UPSTREAM_API_KEY set', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ UPSTREAM_API_KEY: 'sk-gateway-own' })));
  afterAll(() => bed.close());

  it("sends the configured key upstream instead of the caller's, while ownership still follows the caller's key", async () => {
    const created = await bed.client('sk-caller').responses.create({ model: 'mock-gpt', input: 'x' });
    expect((await bed.upstreamRequests()).at(-1)?.authorization).toBe('Bearer sk-gateway-own');
    await expect(bed.client('sk-someone-else').responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });
});
