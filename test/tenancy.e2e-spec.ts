import { createHash } from 'node:crypto';
import { ownerHashOf } from '@app/session-store';
import { startGateway, uniquePrefix } from './support/gateway';
import { startMockLlm } from './support/mock-llm';
import { ResponsesBed } from './support/responses-bed';

/** Tenants are told apart by their API key (its hash); a session id is theirs alone. */
describe('tenants using the same session id', () => {
  let bed: ResponsesBed;

  beforeAll(async () => {
    bed = await ResponsesBed.start({ SESSION_MAX_RESPONSES: '5' });
  });
  afterAll(async () => {
    await bed.close();
  });

  it("never share a session: another tenant's writes cannot evict a tenant's cached responses", async () => {
    const headers = { 'x-session-id': 'shared-name' };
    const a = bed.client('sk-tenant-a');
    const b = bed.client('sk-tenant-b');
    const ownIds: string[] = [];
    let previous: string | undefined;
    for (let turn = 1; turn <= 3; turn += 1) {
      const response = await a.responses.create(
        { model: 'mock-gpt', input: `a ${turn}`, previous_response_id: previous },
        { headers },
      );
      ownIds.push(response.id);
      previous = response.id;
    }
    // Five writes by tenant B under the same session id: with one shared session they would fill its cap.
    let theirs: string | undefined;
    for (let turn = 1; turn <= 5; turn += 1) {
      theirs = (
        await b.responses.create({ model: 'mock-gpt', input: `b ${turn}`, previous_response_id: theirs }, { headers })
      ).id;
    }
    expect(theirs?.slice(5, 21)).not.toBe(previous?.slice(5, 21));

    const { data, response } = await a.responses
      .create({ model: 'mock-gpt', input: 'a 4', previous_response_id: previous }, { headers })
      .withResponse();
    expect(response.headers.get('x-session-cache')).toBe('hit');
    expect(response.headers.get('x-session-id')).toBe('shared-name');
    expect(data.output_text).toMatch(/^Turn 4:/);
    const cached = await fetch(`${bed.gateway.url}/cache/sessions/${data.id}`);
    const view = (await cached.json()) as { responses: Array<{ id: string }> };
    expect(view.responses.map((entry) => entry.id).sort()).toEqual([...ownIds, data.id].sort());
  });

  it('names a session by its session id only together with the owner hash', async () => {
    const response = await fetch(`${bed.gateway.url}/cache/sessions/shared-name`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('owner');

    const owned = await fetch(`${bed.gateway.url}/cache/sessions/shared-name?owner=${ownerHashOf('sk-tenant-b')}`);
    expect(owned.status).toBe(200);
    const view = (await owned.json()) as { session_id: string; responses: unknown[] };
    expect(view).toMatchObject({ session_id: 'shared-name' });
    expect(view.responses).toHaveLength(5);
  });
});

/**
 * The two-step upgrade from versions whose session tag was the session id's alone: step one runs the new
 * version with SESSION_TAG_SCOPE=session (old and new replicas read each other's turns at once), step two
 * with the default; a chain crossing from one scope to the other is still whole and from the cache.
 */
describe('upgrading from session-only tags', () => {
  it('writes the old tag with SESSION_TAG_SCOPE=session, and the default scope continues such chains from the cache', async () => {
    const prefix = uniquePrefix();
    const mock = await startMockLlm();
    const stepOne = await startGateway({
      REDIS_KEY_PREFIX: prefix,
      UPSTREAM_BASE_URL: mock.baseUrl,
      SESSION_TAG_SCOPE: 'session',
    });
    const stepTwo = await startGateway({ REDIS_KEY_PREFIX: prefix, UPSTREAM_BASE_URL: mock.baseUrl });
    try {
      const headers = {
        'content-type': 'application/json',
        authorization: 'Bearer sk-upgrade',
        'x-session-id': 'upgrading',
      };
      const turn = async (url: string, input: string, previous?: string) => {
        const response = await fetch(`${url}/v1/responses`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: 'mock-gpt', input, previous_response_id: previous }),
        });
        const body = (await response.json()) as { id: string; output: Array<{ content: Array<{ text: string }> }> };
        return { id: body.id, text: body.output[0]?.content[0]?.text, cache: response.headers.get('x-session-cache') };
      };
      const first = await turn(stepOne.url, 'one');
      expect(first.id.slice(5, 21)).toBe(createHash('sha256').update('upgrading').digest('hex').slice(0, 16));
      const second = await turn(stepTwo.url, 'two', first.id);
      expect(second.id.slice(5, 21)).toBe(
        createHash('sha256')
          .update(`${ownerHashOf('sk-upgrade')}\nupgrading`)
          .digest('hex')
          .slice(0, 16),
      );
      const third = await turn(stepOne.url, 'three', second.id);
      const fourth = await turn(stepTwo.url, 'four', third.id);
      expect([second.cache, third.cache, fourth.cache]).toEqual(['hit', 'hit', 'hit']);
      expect(fourth.text).toMatch(/^Turn 4:/);
    } finally {
      await stepOne.close();
      await stepTwo.close();
      await mock.close();
    }
  });
});
