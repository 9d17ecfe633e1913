/**
 * The I/O floor: the Nest floor plus the input and output every stateful turn needs, written as plainly as
 * possible, to tell what the service's turn costs above the work no implementation on this stack can skip.
 * Per turn: the request's JSON parsed; the chain read in one Redis round trip (the service's own script and
 * key layout, so the bench's seeded chains serve here too) and its histories parsed; the chat request built
 * and its answer parsed; the response saved and journaled in one round trip; its row inserted in batches
 * (one array per column, prepared once, as the service's writer does), the journal entries deleted after.
 * Left out: input validation, errors, tenancy checks beyond the script's, logging, metrics, tracing,
 * admission control, the Response object's full shape. Run as its own process by `npm run bench` and `npm run bench:ab`.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Headers, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply } from 'fastify';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { Agent, request } from 'undici';
import { CHAIN_SCRIPT, SAVE_SCRIPT } from '../../libs/session-store/src/cache-scripts';
import { CacheKeys } from '../../libs/session-store/src/cache-keys';
import { newItemId, newResponseId, newSessionId, ownerHashOf, tagOfResponseId } from '../../libs/session-store/src/ids';

const port = Number(process.env.FLOOR_PORT ?? 8092);
const upstream = process.env.FLOOR_UPSTREAM ?? 'http://127.0.0.1:4000';
const keys = new CacheKeys(process.env.REDIS_KEY_PREFIX ?? 'rsc');
const TTL_SECONDS = 3600;
const MAX_PER_SESSION = 300;
const BATCH = 100;
const journal = keys.journalEntries('io-floor');

type Chained = Redis & {
  chain(...args: Array<string | number>): Promise<[string[], string, string | null, number[]]>;
  save(...args: Array<string | number>): Promise<number>;
};
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true }) as Chained;
redis.defineCommand('chain', { numberOfKeys: 1, lua: CHAIN_SCRIPT });
redis.defineCommand('save', { numberOfKeys: 1, lua: SAVE_SCRIPT });
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null });

interface Item {
  id: string;
  type: 'message';
  role: string;
  content: Array<{ type: string; text: string }>;
}
interface Row {
  values: unknown[];
  entry: string;
}

const COLUMNS = 'id, session_id, parent_response_id, owner_hash, model, input, output, status, created_at';
const INSERT =
  `INSERT INTO responses (${COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], ` +
  '$5::text[], string_to_array($6, chr(30))::jsonb[], string_to_array($7, chr(30))::jsonb[], $8::text[], ' +
  '$9::timestamptz[]) ON CONFLICT (id) DO NOTHING';
let rows: Row[] = [];

async function flush(batch: Row[]): Promise<void> {
  const column = (index: number) => batch.map((row) => row.values[index]);
  const json = (index: number) => column(index).join('\u001e');
  const params = [column(0), column(1), column(2), column(3), column(4), json(5), json(6), column(7), column(8)];
  await pool.query({ name: 'io_floor_insert', text: INSERT, values: params });
  await redis.xdel(journal, ...batch.map((row) => row.entry));
}

@Controller()
class TurnController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Post('v1/responses')
  async create(
    @Body() body: { model: string; input: string; previous_response_id?: string },
    @Headers('authorization') authorization: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const owner = ownerHashOf(authorization.slice('Bearer '.length));
    const previous = body.previous_response_id ?? null;
    let history: Item[] = [];
    let sessionId = newSessionId();
    if (previous !== null) {
      const tag = tagOfResponseId(previous) ?? '';
      const [found, , session] = await redis.chain(
        keys.session(tag),
        keys.responsePrefix(tag),
        previous,
        owner,
        TTL_SECONDS,
        10_000,
      );
      history = found
        .map((json) => JSON.parse(json) as Item[])
        .reverse()
        .flat();
      sessionId = session ?? sessionId;
    }
    const id = newResponseId(owner, sessionId);
    const tag = tagOfResponseId(id) ?? '';
    const input: Item[] = [
      { id: newItemId('msg', tag), type: 'message', role: 'user', content: [{ type: 'input_text', text: body.input }] },
    ];
    const messages = [...history, ...input].map((item) => ({
      role: item.role,
      content: item.content.map((part) => part.text).join(''),
    }));
    const answer = await request(`${upstream}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ model: body.model, messages }),
    });
    const completion = (await answer.body.json()) as {
      choices: Array<{ message: { content: string } }>;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    const output: Item[] = [
      {
        id: newItemId('msg', tag),
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: completion.choices[0]?.message.content ?? '' }],
      },
    ];
    const createdAt = Date.now();
    const response = {
      id,
      object: 'response',
      created_at: Math.floor(createdAt / 1000),
      status: 'completed',
      model: body.model,
      previous_response_id: previous,
      output,
      usage: completion.usage,
    };
    const json = JSON.stringify(response);
    const [, entry] = await Promise.all([
      redis.save(
        keys.session(tag),
        keys.responsePrefix(tag),
        TTL_SECONDS,
        MAX_PER_SESSION,
        keys.items(tag),
        id,
        previous ?? '',
        owner,
        sessionId,
        json,
        JSON.stringify([...input, ...output]),
        createdAt,
        0,
      ),
      redis.xadd(journal, '*', 'r', json),
    ]);
    rows.push({
      values: [
        id,
        sessionId,
        previous,
        owner,
        body.model,
        JSON.stringify(input),
        JSON.stringify(output),
        'completed',
        new Date(createdAt).toISOString(),
      ],
      entry: entry ?? '',
    });
    if (rows.length >= BATCH) {
      const batch = rows;
      rows = [];
      flush(batch).catch((error: unknown) => console.error('I/O floor: a batch failed', error));
    }
    void reply.header('content-type', 'application/json');
    return json;
  }
}

@Module({ controllers: [TurnController] })
class IoFloorModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(IoFloorModule, new FastifyAdapter(), {
    logger: ['error', 'warn'],
  });
  await app.listen(port, '127.0.0.1');
  console.log(`I/O floor on ${port} -> ${upstream}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
