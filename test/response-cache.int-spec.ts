import { createHash } from 'node:crypto';
import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import { newItemId, ResponseCache, sessionTag, StoredResponse } from '@app/session-store';
import { Telemetry } from '@app/telemetry';
import { uniquePrefix } from './support/gateway';
import { commandsSentBy } from './support/redis-monitor';
import { storedChain, storedResponse } from './support/records';
import { deleteKeys } from './setup/test-services';

describe('ResponseCache on a real Redis', () => {
  const prefix = uniquePrefix();
  const config = new AppConfig({
    ...process.env,
    REDIS_KEY_PREFIX: prefix,
    SESSION_TTL_SECONDS: '60',
    SESSION_MAX_RESPONSES: '50',
  });
  let redis: RedisService;
  let cache: ResponseCache;

  beforeAll(async () => {
    redis = new RedisService(config, new Telemetry());
    await redis.onModuleInit();
    cache = new ResponseCache(redis, config);
  });
  afterAll(async () => {
    await deleteKeys(process.env.REDIS_URL as string, prefix);
    await redis.onApplicationShutdown();
  });

  it.each([1, 10, 50])('resolves a chain of depth %i in exactly one Redis command', async (depth) => {
    const chain = storedChain(depth, { sessionId: `depth-${depth}` });
    await cache.save(chain);
    const newest = chain[chain.length - 1];
    if (!newest) throw new Error('empty chain');
    await cache.chain(newest.id, newest.ownerHash); // loads the script, so the measured call is an EVALSHA

    let result: Awaited<ReturnType<ResponseCache['chain']>> | undefined;
    const sent = await commandsSentBy(
      redis.client,
      async () => (result = await cache.chain(newest.id, newest.ownerHash)),
    );
    expect(sent).toEqual(['evalsha']);
    const history = [...chain].reverse().map((r) => [...r.input, ...r.output]);
    expect(result).toEqual({ ok: true, value: { found: history, sessionId: `depth-${depth}`, missing: null } });
  });

  it('reads entries an earlier version wrote (whole response only) in the same walk as current ones', async () => {
    const chain = storedChain(3, { sessionId: 'written-before' });
    await cache.save(chain);
    // The earlier layout: d, p and o only. A rolling deploy has replicas of both versions for a while.
    for (const r of chain.slice(0, 2)) {
      const key = cache.keys.response(r.id.slice(5, 21), r.id);
      await redis.client.hdel(key, 'c', 's');
    }
    const newest = chain[2];
    const oldest = chain[0];
    if (!newest || !oldest) throw new Error('no chain');
    const history = [...chain].reverse().map((r) => [...r.input, ...r.output]);
    expect(await cache.chain(newest.id, newest.ownerHash)).toEqual({
      ok: true,
      value: { found: history, sessionId: 'written-before', missing: null },
    });
    expect(await cache.chain(chain[1]?.id ?? '', oldest.ownerHash)).toEqual({
      ok: true,
      value: { found: history.slice(1), sessionId: 'written-before', missing: null },
    });
  });

  it('walks a chain whose older turns a previous version wrote under its session-only tag: one round trip per tag', async () => {
    // Before tags were per owner, a session's tag was the first 16 hex of SHA-256 of the session id alone.
    const legacyTag = createHash('sha256').update('rolling').digest('hex').slice(0, 16);
    const older = storedChain(2, { sessionId: 'rolling' }).map((r) => ({
      ...r,
      id: `resp_${legacyTag}${r.id.slice(21)}`,
    }));
    const [first, second] = older as [StoredResponse, StoredResponse];
    second.previousResponseId = first.id;
    const newer = storedResponse({ sessionId: 'rolling', previousResponseId: second.id, createdAt: Date.now() });
    await cache.save([first, second, newer]);
    expect(newer.id.slice(5, 21)).not.toBe(legacyTag);
    await cache.chain(newer.id, newer.ownerHash); // loads the script

    let result: Awaited<ReturnType<ResponseCache['chain']>> | undefined;
    const sent = await commandsSentBy(
      redis.client,
      async () => (result = await cache.chain(newer.id, newer.ownerHash)),
    );
    expect(sent).toEqual(['evalsha', 'evalsha']);
    const history = [newer, second, first].map((r) => [...r.input, ...r.output]);
    expect(result).toEqual({ ok: true, value: { found: history, sessionId: 'rolling', missing: null } });
  });

  it('stops without a second round trip when the missing ancestor has the same tag', async () => {
    const chain = storedChain(3, { sessionId: 'gap' });
    await cache.save(chain.slice(1));
    const newest = chain[2];
    await cache.chain(newest.id, newest.ownerHash);
    const sent = await commandsSentBy(redis.client, () => cache.chain(newest.id, newest.ownerHash));
    expect(sent).toEqual(['evalsha']);
  });

  it('indexes the items a session produced for item_reference, and forgets those of responses the cap drops', async () => {
    const owner = 'd'.repeat(64);
    const tag = sessionTag(owner, 'indexed');
    const withAnswer = (r: StoredResponse): StoredResponse => ({
      ...r,
      output: [
        {
          id: newItemId('msg', tag),
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: r.id, annotations: [] }],
        },
      ],
    });
    const chain = storedChain(52, { sessionId: 'indexed', ownerHash: owner }).map(withAnswer);
    await cache.save(chain);
    const itemIds = chain.map((r) => r.output[0]?.id ?? '');
    const found = await cache.items(itemIds, owner);
    if (!found.ok) throw new Error(found.error);
    // The cap (50) dropped the two oldest responses, and their items with them.
    expect([...found.value.keys()].sort()).toEqual(itemIds.slice(2).sort());
    expect(await redis.client.hlen(cache.keys.items(tag))).toBe(50);
    expect(await cache.items(itemIds, 'e'.repeat(64))).toEqual({ ok: true, value: new Map() });
  });

  it('keeps a session in one hash-tagged slot, with the configured TTL', async () => {
    const [response] = storedChain(1, { sessionId: 'slot-check' });
    if (!response) throw new Error('no response');
    await cache.save([response]);
    const tag = response.id.slice(5, 21);
    const responseKey = `${prefix}:{${tag}}:r:${response.id}`;
    const sessionKey = `${prefix}:{${tag}}:s`;
    expect(await redis.client.exists(responseKey, sessionKey)).toBe(2);
    expect(await redis.client.ttl(responseKey)).toBeGreaterThan(55);
    expect(await redis.client.ttl(sessionKey)).toBeGreaterThan(55);
  });

  it('refreshes the TTL of every response of a chain it resolves', async () => {
    const chain = storedChain(3, { sessionId: 'ttl-refresh' });
    await cache.save(chain);
    const keys = chain.map((r) => cache.keys.response(r.id.slice(5, 21), r.id));
    for (const key of keys) await redis.client.expire(key, 5);
    const newest = chain[2];
    if (!newest) throw new Error('no chain');
    await cache.chain(newest.id, newest.ownerHash);
    for (const key of keys) expect(await redis.client.ttl(key)).toBeGreaterThan(55);
  });

  it('keeps at most SESSION_MAX_RESPONSES per session, dropping the oldest', async () => {
    const chain = storedChain(55, { sessionId: 'capped' });
    for (const response of chain) await cache.save([response]);
    const tag = chain[0]?.id.slice(5, 21) ?? '';
    expect(await redis.client.zcard(cache.keys.session(tag))).toBe(50);
    const oldest = chain.slice(0, 5).map((r) => cache.keys.response(tag, r.id));
    expect(await redis.client.exists(...oldest)).toBe(0);
    const newest = chain[54];
    if (!newest) throw new Error('no chain');
    const result = await cache.chain(newest.id, newest.ownerHash);
    if (!result.ok) throw new Error(result.error);
    expect(result.value.found).toHaveLength(50);
    expect(result.value.missing).toBe(chain[4]?.id);
  });

  it("stops at another owner's response as if it were not there", async () => {
    const response = storedResponse({ sessionId: 'owned', ownerHash: 'b'.repeat(64) });
    await cache.save([response]);
    expect(await cache.chain(response.id, 'c'.repeat(64))).toEqual({
      ok: true,
      value: { found: [], sessionId: null, missing: response.id },
    });
    expect(await cache.get(response.id, 'c'.repeat(64))).toEqual({ ok: true, value: null });
    expect(await cache.delete(response.id, 'c'.repeat(64))).toBe(true);
    expect(await cache.get(response.id, 'b'.repeat(64))).toEqual({ ok: true, value: response });
  });
});
