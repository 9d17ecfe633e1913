import { ResponsesBed } from './support/responses-bed';

describe('Responses API: retrieve, delete, input items and tenancy', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('retrieves a stored response exactly as created', async () => {
    const client = bed.client();
    const created = await client.responses.create({
      model: 'mock-gpt',
      input: 'keep me',
      temperature: 0.2,
      user: 'u-1',
    });
    const fetched = await client.responses.retrieve(created.id);
    expect(fetched).toEqual(created);
    expect(fetched).toMatchObject({ temperature: 0.2, user: 'u-1' });
  });

  it('retrieves from PostgreSQL once Redis has forgotten it', async () => {
    const client = bed.client();
    const created = await client.responses.create({ model: 'mock-gpt', input: 'durable' });
    await bed.writer.flush();
    await bed.forgetRedis();
    expect(await client.responses.retrieve(created.id)).toEqual(created);
  });

  it('deletes a response everywhere: retrieve is 404, continuing is 400, the row keeps only the facts', async () => {
    const client = bed.client();
    const created = await client.responses.create({ model: 'mock-gpt', input: 'forget me' });
    expect(await client.responses.delete(created.id)).toEqual({ id: created.id, object: 'response', deleted: true });
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      client.responses.create({ model: 'mock-gpt', input: 'x', previous_response_id: created.id }),
    ).rejects.toMatchObject({ status: 400, error: { code: 'previous_response_not_found' } });
    expect(await bed.hasCached(created.id)).toBe(false);
    await bed.writer.flush();
    const row = await bed.spendLog(created.id);
    expect(row).toMatchObject({ status: 'completed', input: null, output: null });
    expect(row?.deleted_at).toBeInstanceOf(Date);
    expect(row?.total_tokens).toBe(created.usage?.total_tokens);
    await expect(client.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('lists input items with cursor pagination, newest first by default', async () => {
    const client = bed.client();
    const created = await client.responses.create({
      model: 'mock-gpt',
      input: ['m1', 'm2', 'm3', 'm4', 'm5'].map((text) => ({ role: 'user' as const, content: text })),
    });
    const textOf = (item: unknown) => (item as { content: Array<{ text: string }> }).content[0]?.text;

    const firstPage = await client.responses.inputItems.list(created.id, { limit: 2 });
    expect(firstPage.data.map(textOf)).toEqual(['m5', 'm4']);
    expect(firstPage.has_more).toBe(true);
    const lastId = firstPage.data[1]?.id;
    const secondPage = await client.responses.inputItems.list(created.id, { limit: 2, after: lastId });
    expect(secondPage.data.map(textOf)).toEqual(['m3', 'm2']);

    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 2, order: 'asc' }))
      all.push(textOf(item) ?? '');
    expect(all).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);

    const raw = await fetch(`${bed.gateway.url}/v1/responses/${created.id}/input_items?limit=5&order=asc`, {
      headers: { authorization: 'Bearer sk-tenant-a' },
    });
    const page = (await raw.json()) as {
      object: string;
      first_id: string;
      last_id: string;
      has_more: boolean;
      data: unknown[];
    };
    expect(page).toMatchObject({ object: 'list', has_more: false });
    expect(page.first_id).toBe((page.data[0] as { id: string }).id);
    expect(page.last_id).toBe((page.data[4] as { id: string }).id);
  });

  it('rejects bad input_items queries with 400', async () => {
    const created = await bed.client().responses.create({ model: 'mock-gpt', input: 'x' });
    for (const query of ['limit=0', 'limit=101', 'order=sideways']) {
      const response = await fetch(`${bed.gateway.url}/v1/responses/${created.id}/input_items?${query}`, {
        headers: { authorization: 'Bearer sk-tenant-a' },
      });
      expect(response.status).toBe(400);
    }
  });

  it("keeps tenants apart: B can neither retrieve, delete, list nor continue A's response", async () => {
    const tenantA = bed.client('sk-tenant-a');
    const tenantB = bed.client('sk-tenant-b');
    const mine = await tenantA.responses.create({ model: 'mock-gpt', input: 'private to A' });

    await expect(tenantB.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(tenantB.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(tenantB.responses.inputItems.list(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      tenantB.responses.create({ model: 'mock-gpt', input: 'steal', previous_response_id: mine.id }),
    ).rejects.toMatchObject({
      status: 400,
      error: { code: 'previous_response_not_found', message: `Previous response with id '${mine.id}' not found.` },
    });
    // The same holds once the response lives only in PostgreSQL.
    await bed.writer.flush();
    await bed.forgetRedis();
    await expect(tenantB.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      tenantB.responses.create({ model: 'mock-gpt', input: 'steal', previous_response_id: mine.id }),
    ).rejects.toMatchObject({ status: 400 });
    // A still has it.
    await expect(tenantA.responses.retrieve(mine.id)).resolves.toMatchObject({ id: mine.id });
  });

  it('stores only a hash of the API key, never the key', async () => {
    const created = await bed.client('sk-very-secret-key').responses.create({ model: 'mock-gpt', input: 'x' });
    await bed.writer.flush();
    const row = await bed.pg.query<{ owner_hash: string }>('SELECT owner_hash FROM responses WHERE id = $1', [
      created.id,
    ]);
    expect(row.rows[0]?.owner_hash).toMatch(/^[0-9a-f]{64}$/);
    const dump = await bed.pg.query(
      "SELECT count(*)::int AS n FROM responses WHERE row_to_json(responses)::text LIKE '%sk-very-secret-key%'",
    );
    expect(dump.rows[0]).toEqual({ n: 0 });
    const values = await Promise.all((await bed.redisKeys()).map((key) => bed.redis.hgetall(key).catch(() => ({}))));
    expect(JSON.stringify(values)).not.toContain('sk-very-secret-key');
  });
});
