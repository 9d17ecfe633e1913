import { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { eventually } from './support/eventually';
import { ResponsesBed } from './support/responses-bed';

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('Responses API: streaming', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it("streams OpenAI's event sequence, numbered from 0, and the final response can be continued at once", async () => {
    const client = bed.client();
    const first = await client.responses.create({ model: 'mock-gpt', input: 'hi' });
    const events = await collect(
      await client.responses.create({
        model: 'mock-gpt',
        input: 'stream please',
        previous_response_id: first.id,
        stream: true,
      }),
    );

    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const types = events.map((event) => event.type);
    const deltas = types.filter((type) => type === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(3);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('');
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response).toMatchObject({ status: 'completed', previous_response_id: first.id });
    expect(text).toMatch(/^Turn 2: you said "stream please" \(3 messages/);
    const created = events[0];
    if (created?.type !== 'response.created') throw new Error('no response.created');
    expect(created.response.id).toBe(completed.response.id);
    expect(completed.response.usage?.total_tokens).toBeGreaterThan(0);

    const { response: raw } = await client.responses
      .create({ model: 'mock-gpt', input: 'and now', previous_response_id: completed.response.id })
      .withResponse();
    expect(raw.headers.get('x-session-cache')).toBe('hit');
    const users = (await bed.lastUpstreamMessages()).filter((m) => m.role === 'user').map((m) => m.content);
    expect(users).toEqual(['hi', 'stream please', 'and now']);
  });

  it('works with the SDK responses.stream() helper', async () => {
    const stream = bed.client().responses.stream({ model: 'mock-gpt', input: 'helper' });
    let deltas = '';
    stream.on('response.output_text.delta', (event) => (deltas += event.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(deltas);
    expect(final.output_text).toMatch(/^Turn 1: you said "helper"/);
    expect(await bed.hasCached(final.id)).toBe(true);
  });

  it('streams function calls as function_call_arguments events', async () => {
    const events = await collect(
      await bed.client().responses.create({
        model: 'mock-gpt',
        input: 'please get_time now',
        tools: [{ type: 'function', name: 'get_time', parameters: { type: 'object', properties: {} }, strict: false }],
        stream: true,
      }),
    );
    const types = events.map((event) => event.type);
    expect(types).toContain('response.function_call_arguments.delta');
    const done = events.find((event) => event.type === 'response.function_call_arguments.done');
    expect(done).toMatchObject({ arguments: JSON.stringify({ input: 'please get_time now' }) });
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response.output[0]).toMatchObject({
      type: 'function_call',
      name: 'get_time',
      status: 'completed',
    });
  });

  it('ends an upstream break-off with response.failed, and neither caches nor lets anyone continue it', async () => {
    const client = bed.client();
    const events = await collect(
      await client.responses.create({ model: 'mock-gpt', input: 'break [[mock:abort-after=3]]', stream: true }),
    );
    const last = events.at(-1);
    if (last?.type !== 'response.failed') throw new Error(`expected response.failed, got ${last?.type}`);
    expect(last.response.status).toBe('failed');
    expect(last.response.error?.message).toMatch(/upstream/i);
    const id = last.response.id;
    expect(await bed.hasCached(id)).toBe(false);
    await expect(
      client.responses.create({ model: 'mock-gpt', input: 'x', previous_response_id: id }),
    ).rejects.toMatchObject({
      status: 400,
      error: { code: 'previous_response_not_found' },
    });
    await bed.writer.flush();
    expect(await bed.spendLog(id)).toMatchObject({ status: 'failed' });
  });

  it('answers an upstream error before the first byte with its HTTP status, not an event stream', async () => {
    await expect(
      bed.client().responses.create({ model: 'mock-gpt', input: 'busy [[mock:status=429]]', stream: true }),
    ).rejects.toMatchObject({ status: 429 });
  });
});

describe('Responses API: slow upstream streams', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start({}, { chunkDelayMs: 100 })));
  afterAll(() => bed.close());

  it('forwards each delta as it arrives, while the upstream is still streaming', async () => {
    const stream = await bed.client().responses.create({ model: 'mock-gpt', input: 'drip feed', stream: true });
    let upstreamStateAtFirstDelta: string | undefined = 'not seen';
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta' && upstreamStateAtFirstDelta === 'not seen') {
        upstreamStateAtFirstDelta = (await bed.upstreamRequests()).at(-1)?.outcome;
      }
    }
    // No outcome recorded yet means the upstream had not finished sending when the delta reached us.
    expect(upstreamStateAtFirstDelta).toBeUndefined();
    expect((await bed.upstreamRequests()).at(-1)?.outcome).toBe('completed');
  });

  it('aborts the upstream request, logs the response as cancelled and does not cache it', async () => {
    const abort = new AbortController();
    const stream = await bed
      .client()
      .responses.create({ model: 'mock-gpt', input: 'a slow answer', stream: true }, { signal: abort.signal });
    let id = '';
    try {
      for await (const event of stream) {
        if (event.type === 'response.created') id = event.response.id;
        if (event.type === 'response.output_text.delta') abort.abort();
      }
    } catch {
      // the SDK reports the abort
    }
    const requests = await eventually(
      () => bed.upstreamRequests(),
      (all) => all.at(-1)?.outcome !== undefined,
    );
    expect(requests.at(-1)?.outcome).toBe('client_closed');
    await eventually(
      async () => bed.writer.find(id),
      (row) => row !== undefined,
    );
    await bed.writer.flush();
    expect(await bed.spendLog(id)).toMatchObject({ status: 'cancelled', error: { code: 'client_disconnected' } });
    expect(await bed.hasCached(id)).toBe(false);
  });

  it('aborts a non-streaming upstream call when the client goes away, and logs it as cancelled', async () => {
    const abort = new AbortController();
    const pending = bed
      .client()
      .responses.create({ model: 'mock-gpt', input: 'never mind [[mock:latency=1500]]' }, { signal: abort.signal });
    await eventually(async () =>
      (await bed.upstreamRequests()).some((r) => JSON.stringify(r.body).includes('never mind')),
    );
    abort.abort();
    await expect(pending).rejects.toThrow();
    const cancelled = await eventually(async () => {
      await bed.writer.flush();
      const rows = await bed.pg.query<{ status: string }>(
        "SELECT status FROM responses WHERE input::text LIKE '%never mind%'",
      );
      return rows.rows[0]?.status;
    });
    expect(cancelled).toBe('cancelled');
  });
});
