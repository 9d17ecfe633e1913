import { ResponsesBed } from './support/responses-bed';

describe('UPSTREAM_API=responses: the whole history goes to a stateless /responses upstream', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({ UPSTREAM_API: 'responses' })));
  afterAll(() => bed.close());

  it('forwards the full chain with store:false and no previous_response_id, keeping our own ids', async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'u1', instructions: 'Old rule.' });
    const second = await client.responses.create({
      model: 'mock-gpt',
      input: 'u2',
      previous_response_id: first.id,
      instructions: 'New rule.',
    });
    expect(second.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toMatch(/^Turn 2: you said "u2"/);

    const sent = (await bed.upstreamRequests()).at(-1);
    expect(sent?.path).toBe('/v1/responses');
    expect(sent?.responsesBody).toMatchObject({ store: false, instructions: 'New rule.' });
    expect(sent?.responsesBody).not.toHaveProperty('previous_response_id');
    expect(sent?.responsesBody?.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'u1' }] },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: first.output_text, annotations: [] }],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'u2' }] },
    ]);
  });

  it('relays a streamed answer with our response id and sequence numbers, and caches it for the next turn', async () => {
    const client = bed.client();
    const stream = await client.responses.create({ model: 'mock-gpt', input: 's1', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const created = events[0];
    const completed = events.at(-1);
    if (created?.type !== 'response.created' || completed?.type !== 'response.completed') throw new Error('bad stream');
    expect(created.response.id).toBe(completed.response.id);
    expect(completed.response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(completed.response.output[0]).toMatchObject({
      type: 'message',
      content: [{ type: 'output_text', text: expect.stringMatching(/^Turn 1: you said "s1"/) as unknown }],
    });

    const { data: next, response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 's2', previous_response_id: completed.response.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('hit');
    expect(next.output_text).toMatch(/^Turn 2: you said "s2"/);
  });
});
