import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import { Client } from 'pg';
import { eventually } from './support/eventually';
import { ResponsesBed } from './support/responses-bed';
import { TcpProxy } from './support/tcp-proxy';
import { outcomeOf } from './support/turn-outcome';
import { createDatabase, dropDatabase, migrate, withDatabase } from './setup/test-services';

const COLD_CHAINS = 40;
/** Admission control's target in the second suite: a turn 4 × this in the service before the upstream is refused. */
const QUEUE_TARGET_MS = 500;
/** Longer than that bound: a turn that waited this long for PostgreSQL would be refused if it counted as its own. */
const LOCK_HELD_MS = 4 * QUEUE_TARGET_MS + 1_500;

/**
 * A ResponsesBed on a database of its own for the describe block it is called in (a lock on its responses
 * table would stall other suites); `env` is added to the bed's.
 */
function bedOnOwnDatabase(name: string, env: Record<string, string>): { bed: ResponsesBed; databaseUrl: string } {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL as string;
  const database = `rsc_${name}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = withDatabase(adminUrl, database);
  let bed: ResponsesBed | undefined;
  beforeAll(async () => {
    await createDatabase(adminUrl, database);
    await migrate(databaseUrl);
    bed = await ResponsesBed.start({ DATABASE_URL: databaseUrl, ...env });
  }, 60_000);
  afterAll(async () => {
    await bed?.close();
    await dropDatabase(adminUrl, database);
  });
  return {
    get bed() {
      if (!bed) throw new Error('the bed starts in beforeAll');
      return bed;
    },
    databaseUrl,
  };
}

/** Holds the responses table locked (every chain lookup waits) until the transaction of the client returned ends. */
async function lockedResponsesTable(databaseUrl: string): Promise<Client> {
  const locker = new Client({ connectionString: databaseUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE responses IN ACCESS EXCLUSIVE MODE');
  return locker;
}

/**
 * A storm of chains only PostgreSQL holds, while PostgreSQL is slow to answer them (here: the responses table
 * is locked, so every chain lookup waits), must not take every pooled connection: turns that need PostgreSQL for
 * something else (a conversation) go on, and the chain lookups beyond the bound are refused at once with a
 * retryable 503 instead of queueing without end. Runs on a database of its own (the lock would stall other suites).
 */
describe('History fallbacks to PostgreSQL are bounded', () => {
  const own = bedOnOwnDatabase('bound', { DATABASE_POOL_SIZE: '4' });

  it('keeps connections for other work during a cold-chain storm, refuses the excess with 503, loses no history', async () => {
    const { bed } = own;
    const client = bed.client();
    const heads = await Promise.all(
      Array.from({ length: COLD_CHAINS }, async (_, index) => {
        const first = await client.responses.create({ model: 'mock-gpt', input: `cold ${index}` });
        return first.id;
      }),
    );
    await bed.writer.flush();
    await bed.forgetRedis();

    const locker = await lockedResponsesTable(own.databaseUrl);
    let released = false;
    let refusedSoFar = 0;
    try {
      const storm = heads.map((head, index) =>
        client.responses
          .create({ model: 'mock-gpt', input: `again ${index}`, previous_response_id: head })
          .withResponse()
          .then(
            ({ data, response }) => ({
              status: 200,
              text: data.output_text,
              cache: response.headers.get('x-session-cache'),
            }),
            (error: { status?: number; error?: { code?: string }; headers?: Headers }) => {
              refusedSoFar += 1;
              return {
                status: error.status ?? 0,
                code: error.error?.code,
                retryAfter: error.headers?.get('retry-after'),
              };
            },
          ),
      );
      // Lookups fill the bound (each holding a pooled connection, waiting on the lock) and the queue behind
      // it: the first refusals say so. A conversation turn needs PostgreSQL too, and must get a connection.
      await eventually(
        async () => refusedSoFar,
        (count) => count > 0,
        30_000,
      );
      const conversation = await client.conversations.create({});
      const turn = await client.responses.create({
        model: 'mock-gpt',
        input: 'meanwhile',
        conversation: conversation.id,
      });
      expect(turn.status).toBe('completed');

      await locker.query('COMMIT');
      released = true;
      const answers = await Promise.all(storm);
      const refused = answers.filter((answer) => answer.status !== 200);
      const served = answers.filter((answer) => answer.status === 200);
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(answer).toMatchObject({ status: 503, code: 'history_unavailable' });
        expect(Number((answer as { retryAfter?: string }).retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(served.length).toBeGreaterThan(0);
      for (const answer of served)
        expect(answer).toMatchObject({ cache: 'db', text: expect.stringMatching(/^Turn 2:/) });
      // Ops read the refusals as a warning now and then with a count, not as a line each: a storm would flood the log.
      expect(bed.gateway.logs.matching(/history_unavailable \(request/)).toEqual([]);
      expect(bed.gateway.logs.matching(/Refusing chain lookups in PostgreSQL/)).toHaveLength(1);
    } finally {
      if (!released) await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }, 120_000);
});

/**
 * Admission control takes the time a turn spends in the service itself for the sign of overload, and not the time
 * it waited for PostgreSQL to read its history or the items its input refers to, nor for the upstream: a slow
 * dependency is not the service's own queue. Cold turns that wait on a locked table longer than the bound at which
 * admission control refuses a late turn are served; clients giving up on a slow upstream do not make it shed.
 */
describe('A slow dependency is not overload', () => {
  const own = bedOnOwnDatabase('slowpg', { OVERLOAD_QUEUE_TARGET_MS: String(QUEUE_TARGET_MS) });

  it('serves cold turns that waited on PostgreSQL past the late bound, instead of refusing them server_overloaded', async () => {
    const { bed } = own;
    const client = bed.client();
    const heads = [];
    for (let index = 0; index < 3; index += 1) {
      heads.push(await client.responses.create({ model: 'mock-gpt', input: `slow ${index}` }));
    }
    const [answer] = heads[0].output;
    if (answer?.type !== 'message' || !answer.id) throw new Error('no message');
    await bed.writer.flush();
    await bed.forgetRedis();

    const outcome = (request: ResponseCreateParamsNonStreaming) => outcomeOf(client.responses.create(request));
    const locker = await lockedResponsesTable(own.databaseUrl);
    try {
      const continued = heads.map((head, index) =>
        outcome({ model: 'mock-gpt', input: `later ${index}`, previous_response_id: head.id }),
      );
      // A new conversation whose input refers to an earlier answer: the item is read from PostgreSQL as well.
      const referring = outcome({
        model: 'mock-gpt',
        input: [
          { type: 'item_reference', id: answer.id },
          { role: 'user', content: 'and then?' },
        ],
      });
      await sleep(LOCK_HELD_MS);
      await locker.query('COMMIT');
      for (const served of await Promise.all(continued)) {
        expect(served).toEqual({ status: 200, text: expect.stringMatching(/^Turn 2:/), cache: 'db' });
      }
      expect(await referring).toEqual({ status: 200, text: expect.stringContaining('and then?'), cache: 'none' });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }, 60_000);

  it('does not shed because clients gave up waiting on a slow upstream', async () => {
    const client = own.bed.client();
    // Batches of turns the upstream takes 3 s to answer, each given up after 1 s by its client (as an SDK
    // timeout does), one batch every 150 ms: their ends fall in one window after another, turns in flight.
    const givenUp = Array.from({ length: 6 }, async (_, batch) => {
      await sleep(batch * 150);
      await Promise.all(
        Array.from({ length: 3 }, (__, index) =>
          client.responses
            .create(
              { model: 'mock-gpt', input: `slow upstream ${batch}.${index} [[mock:latency=3000]]` },
              { timeout: 1_000 },
            )
            .then(
              () => 'answered',
              (error: { status?: number }) => error.status ?? 'gave up',
            ),
        ),
      ).then((outcomes) => expect(outcomes).toEqual(Array(3).fill('gave up')));
    });
    await Promise.all(givenUp);

    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        client.responses.create({ model: 'mock-gpt', input: `right after ${index}` }).then(
          () => 200,
          (error: { status?: number }) => error.status,
        ),
      ),
    );
    expect(statuses).toEqual(Array(10).fill(200));
  }, 60_000);
});

/** Longer than admission control's late bound (4 × the default 50 ms target), well under the command timeout. */
const REDIS_REPLY_LATENCY_MS = 220;

/**
 * Redis slow to answer (a busy or distant node) while the service itself idles: each turn waits on it longer
 * than admission control's target, and a continued turn's chain lookup alone longer than its late bound. That is
 * a slow dependency, not a queue in the service, and must not be answered 503 `server_overloaded`.
 */
describe('A slow Redis is not overload', () => {
  let proxy: TcpProxy | undefined;
  let bed: ResponsesBed | undefined;
  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL as string);
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port || 6379), REDIS_REPLY_LATENCY_MS);
    bed = await ResponsesBed.start({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      OVERLOAD_QUEUE_TARGET_MS: '50',
      REDIS_COMMAND_TIMEOUT_MS: '5000',
    });
  }, 60_000);
  afterAll(async () => {
    await bed?.close();
    await proxy?.close();
  });

  it('serves every turn of clients continuing their conversations while each Redis call takes 220 ms', async () => {
    if (!bed) throw new Error('the bed starts in beforeAll');
    const client = bed.client();
    const until = Date.now() + 4_000;
    const perClient = await Promise.all(
      Array.from({ length: 8 }, async (_, index) => {
        const outcomes: Array<string | number | undefined> = [];
        let previous: string | undefined;
        while (Date.now() < until) {
          try {
            const turn = await client.responses.create({
              model: 'mock-gpt',
              input: `client ${index}, turn ${outcomes.length + 1}`,
              ...(previous ? { previous_response_id: previous } : {}),
            });
            previous = turn.id;
            outcomes.push(200);
          } catch (error) {
            const { status, error: body } = error as { status?: number; error?: { code?: string } };
            outcomes.push(body?.code ?? status);
          }
        }
        return outcomes;
      }),
    );
    const outcomes = perClient.flat();
    expect(outcomes.length).toBeGreaterThanOrEqual(8 * 4);
    expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
    // Each client's last turn continued all its earlier ones: the history came through the slow Redis whole.
    const last = await bed.lastUpstreamMessages();
    expect(last.filter((message) => message.role === 'user').length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
