import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { OwnRedisServer } from './support/redis-server';
import { ResponsesBed } from './support/responses-bed';
import { TcpProxy } from './support/tcp-proxy';
import { wireResponseProblems } from './support/wire-response';

/** The Conversations API through the official openai SDK, and turns that continue a conversation. */
describe('Conversations API', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('creates with items and metadata, retrieves, updates metadata, lists, adds, gets and deletes items, deletes', async () => {
    const client = bed.client();
    const created = await client.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'remember: the code is 42' }],
      metadata: { topic: 'codes' },
    });
    expect(created).toMatchObject({ object: 'conversation', metadata: { topic: 'codes' } });
    expect(created.id).toMatch(/^conv_[0-9a-f]{48}$/);
    expect(await client.conversations.retrieve(created.id)).toEqual(created);
    expect(await client.conversations.update(created.id, { metadata: { topic: 'secrets' } })).toMatchObject({
      id: created.id,
      metadata: { topic: 'secrets' },
    });

    const added = await client.conversations.items.create(created.id, {
      items: [
        { type: 'message', role: 'user', content: 'second' },
        { type: 'message', role: 'user', content: 'third' },
      ],
    });
    expect(added.data).toHaveLength(2);
    const page = await client.conversations.items.list(created.id, { order: 'asc', limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    const all = await client.conversations.items.list(created.id, { order: 'asc' });
    const ids = all.data.map((item) => item.id ?? '');
    expect(ids).toHaveLength(3);
    const newestFirst = await client.conversations.items.list(created.id);
    expect(newestFirst.data.map((item) => item.id)).toEqual([...ids].reverse());
    const rest = await client.conversations.items.list(created.id, { order: 'asc', after: ids[0] });
    expect(rest.data.map((item) => item.id)).toEqual(ids.slice(1));

    expect(await client.conversations.items.retrieve(ids[1] ?? '', { conversation_id: created.id })).toMatchObject({
      id: ids[1],
      type: 'message',
    });
    expect(await client.conversations.items.delete(ids[1] ?? '', { conversation_id: created.id })).toMatchObject({
      id: created.id,
      object: 'conversation',
    });
    expect((await client.conversations.items.list(created.id)).data).toHaveLength(2);

    expect(await client.conversations.delete(created.id)).toEqual({
      id: created.id,
      object: 'conversation.deleted',
      deleted: true,
    });
    await expect(client.conversations.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('prepends the conversation to each turn and appends the turn’s input and output when it completes', async () => {
    const client = bed.client();
    const conversation = await client.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'opening' }],
    });
    const first = await client.responses.create({ model: 'mock-gpt', input: 'one', conversation: conversation.id });
    expect(first.output_text).toMatch(/^Turn 2: you said "one"/);
    expect(first.conversation).toEqual({ id: conversation.id });
    expect(wireResponseProblems(first)).toEqual([]);

    const stream = await client.responses.create({
      model: 'mock-gpt',
      input: 'two',
      conversation: { id: conversation.id },
      stream: true,
    });
    let streamed = '';
    for await (const event of stream) if (event.type === 'response.output_text.done') streamed = event.text;
    expect(streamed).toMatch(/^Turn 3: you said "two"/);

    const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
    expect(items.data.map((item) => (item.type === 'message' ? item.role : item.type))).toEqual([
      'user',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect((await client.responses.retrieve(first.id)).conversation).toEqual({ id: conversation.id });
  });

  it('loses no items when turns run concurrently on one conversation', async () => {
    const client = bed.client();
    const conversation = await client.conversations.create({});
    const turns = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        client.responses.create({ model: 'mock-gpt', input: `parallel ${index}`, conversation: conversation.id }),
      ),
    );
    expect(turns.every((turn) => turn.status === 'completed')).toBe(true);
    const items = await client.conversations.items.list(conversation.id, { order: 'asc', limit: 100 });
    expect(items.data).toHaveLength(12);
  });

  it('keeps conversations per tenant, and refuses conversation with previous_response_id', async () => {
    const mine = await bed.client('sk-tenant-a').conversations.create({ metadata: { owner: 'a' } });
    const other = bed.client('sk-tenant-b');
    await expect(other.conversations.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.conversations.items.list(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      other.responses.create({ model: 'mock-gpt', input: 'sneak', conversation: mine.id }),
    ).rejects.toMatchObject({ status: 404, error: { param: 'conversation' } });
    await expect(
      bed.client('sk-tenant-a').responses.create({
        model: 'mock-gpt',
        input: 'x',
        conversation: mine.id,
        previous_response_id: `resp_${'a'.repeat(48)}`,
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'conversation' } });
  });

  describe('history of a turn in a conversation: Redis first, never stale', () => {
    const userTexts = async () =>
      (await bed.lastUpstreamMessages()).filter((m) => m.role === 'user').map((m) => m.content);
    const turn = async (conversation: string, input: string) => {
      const { data, response } = await bed
        .client()
        .responses.create({ model: 'mock-gpt', input, conversation })
        .withResponse();
      return { response: data, cache: response.headers.get('x-session-cache') };
    };

    it('serves each turn from Redis, and from PostgreSQL (then Redis again) once Redis lost it', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'a' }] });
      expect((await turn(id, 'b')).cache).toBe('hit');
      expect((await turn(id, 'c')).cache).toBe('hit');
      expect(await userTexts()).toEqual(['a', 'b', 'c']);

      await bed.forgetRedis();
      expect((await turn(id, 'd')).cache).toBe('db');
      expect(await userTexts()).toEqual(['a', 'b', 'c', 'd']);
      const next = await turn(id, 'e');
      expect(next.cache).toBe('hit');
      expect(next.response.output_text).toMatch(/^Turn 5: you said "e"/);
      expect(await userTexts()).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('follows items added and deleted through the API at once', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'a' }] });
      await turn(id, 'b');
      await client.conversations.items.create(id, { items: [{ type: 'message', role: 'user', content: 'added' }] });
      expect((await turn(id, 'c')).cache).toBe('hit');
      expect(await userTexts()).toEqual(['a', 'b', 'added', 'c']);

      const items = await client.conversations.items.list(id, { order: 'asc' });
      const added = items.data.find((item) => item.type === 'message' && JSON.stringify(item).includes('added'));
      await client.conversations.items.delete(added?.id ?? '', { conversation_id: id });
      await turn(id, 'd');
      expect(await userTexts()).toEqual(['a', 'b', 'c', 'd']);
      expect((await turn(id, 'e')).cache).toBe('hit');
      expect(await userTexts()).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('follows items any writer adds or removes (a replica of the previous build, SQL by hand)', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'a' }] });
      expect((await turn(id, 'b')).cache).toBe('hit');
      // What the previous build's append statement does: no version of its own.
      await bed.pg.query(
        `INSERT INTO conversation_items (conversation_id, item_id, item, created_at)
         VALUES ($1, 'msg_by_hand', $2::jsonb, now())`,
        [
          id,
          JSON.stringify({
            id: 'msg_by_hand',
            type: 'message',
            role: 'user',
            content: [{ type: 'input_text', text: 'by hand' }],
          }),
        ],
      );
      await turn(id, 'c');
      expect(await userTexts()).toEqual(['a', 'b', 'by hand', 'c']);
      await bed.pg.query(`DELETE FROM conversation_items WHERE conversation_id = $1 AND item_id = 'msg_by_hand'`, [id]);
      await turn(id, 'd');
      expect(await userTexts()).toEqual(['a', 'b', 'c', 'd']);
    });

    it('keeps an item once when requests carrying it run at the same time', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({});
      const item = { id: 'msg_retried', type: 'message' as const, role: 'user' as const, content: 'sent twice' };
      await Promise.all(Array.from({ length: 5 }, () => client.conversations.items.create(id, { items: [item] })));
      const listed = await client.conversations.items.list(id, { order: 'asc' });
      expect(listed.data.filter((entry) => entry.id === 'msg_retried')).toHaveLength(1);
      await turn(id, 'after');
      expect(await userTexts()).toEqual(['sent twice', 'after']);
    });

    it('continues from every item after concurrent turns, whichever of them Redis saw last', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({});
      await Promise.all(Array.from({ length: 6 }, (_, index) => turn(id, `parallel ${index}`)));
      const after = await turn(id, 'after');
      expect(after.response.output_text).toMatch(/^Turn 7: you said "after"/);
      expect((await userTexts()).sort()).toEqual(
        [...Array.from({ length: 6 }, (_, i) => `parallel ${i}`), 'after'].sort(),
      );
      expect((await turn(id, 'again')).cache).toBe('hit');
    });

    it('answers 404 for a deleted conversation although Redis still holds a copy of its items', async () => {
      const client = bed.client();
      const { id } = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'a' }] });
      await turn(id, 'b');
      await client.conversations.delete(id);
      await expect(turn(id, 'c')).rejects.toMatchObject({ status: 404 });
    });
    it('never continues from an older copy when a replica cut off from Redis appended to it', async () => {
      const redis = await OwnRedisServer.start();
      const cutOff = await ResponsesBed.start({ REDIS_URL: redis.url });
      await redis.stop();
      try {
        const { id } = await bed.client().conversations.create({});
        await turn(id, 'one');
        const elsewhere = await cutOff.client().responses.create({ model: 'mock-gpt', input: 'two', conversation: id });
        expect(elsewhere.output_text).toMatch(/^Turn 2: you said "two"/);
        expect((await turn(id, 'three')).response.output_text).toMatch(/^Turn 3: you said "three"/);
        expect(await userTexts()).toEqual(['one', 'two', 'three']);
        await cutOff
          .client()
          .conversations.items.create(id, { items: [{ type: 'message', role: 'user', content: 'four' }] });
        await turn(id, 'five');
        expect(await userTexts()).toEqual(['one', 'two', 'three', 'four', 'five']);
      } finally {
        await cutOff.close();
      }
    });
  });

  it('answers a conversation turn with a retryable 503 while PostgreSQL is unreachable, before calling the upstream', async () => {
    const database = new URL(process.env.DATABASE_URL as string);
    const proxy = await TcpProxy.start(database.hostname, Number(database.port || 5432));
    database.hostname = '127.0.0.1';
    database.port = String(proxy.port);
    const cutOff = await ResponsesBed.start({ DATABASE_URL: database.toString() });
    try {
      const client = cutOff.client();
      const { id } = await client.conversations.create({});
      await client.responses.create({ model: 'mock-gpt', input: 'one', conversation: id });
      const asked = (await cutOff.upstreamRequests()).length;
      await proxy.cut();
      await expect(
        client.responses.create({ model: 'mock-gpt', input: 'two', conversation: id }),
      ).rejects.toMatchObject({ status: 503, error: { code: 'store_unavailable' } });
      expect(await cutOff.upstreamRequests()).toHaveLength(asked);
      await proxy.restore();
      const next = await client.responses.create({ model: 'mock-gpt', input: 'three', conversation: id });
      expect(next.output_text).toMatch(/^Turn 2: you said "three"/);
    } finally {
      await cutOff.close();
      await proxy.close();
    }
  });

  it('OpenAI Agents SDK: runs a tool within a conversation (conversationId), then continues it', async () => {
    setTracingDisabled(true);
    setOpenAIAPI('responses');
    const client = new OpenAI({ baseURL: `${bed.gateway.url}/v1`, apiKey: 'sk-agents-conv', maxRetries: 0 });
    setDefaultOpenAIClient(client);
    const lookup = tool({
      name: 'lookup_weather',
      description: 'Weather for a place',
      parameters: z.object({ input: z.string() }),
      execute: () => 'foggy',
    });
    const agent = new Agent({ name: 'helper', model: 'mock-gpt', tools: [lookup] });
    const conversation = await client.conversations.create({});

    const first = await run(agent, 'please lookup_weather for Lima', { conversationId: conversation.id });
    expect(first.finalOutput).toMatch(/returned: foggy/);
    const second = await run(agent, 'thanks', { conversationId: conversation.id });
    expect(second.finalOutput).toMatch(/^Turn 2: you said "thanks"/);
    const roles = (await bed.lastUpstreamMessages()).map((message) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
  });
});
