import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig } from '@app/config';
import { PrismaService } from '@app/database';
import { RedisService } from '@app/redis';
import { ResponseCache, ResponseJournal, ResponseRepository, SpendLogWriter, StoredResponse } from '@app/session-store';
import { Telemetry } from '@app/telemetry';
import { commandsSentBy } from '../support/redis-monitor';
import { BENCH_OWNER, chain } from './fixtures';
import { newHistogram, percentiles } from './load';

export interface ChainResolution {
  depth: number;
  round_trips: number;
  commands: string[];
  p50_us: number;
  p99_us: number;
}

export interface DatabaseFallback {
  depth: number;
  p50_us: number;
  p99_us: number;
}

export interface WriterThroughput {
  rows: number;
  writer_rows_per_s: number;
  plain_insert_rows_per_s: number;
  ratio: number;
}

async function timed(iterations: number, run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const histogram = newHistogram();
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await run();
    histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
  }
  const { p50, p99 } = percentiles(histogram);
  return { p50, p99 };
}

/** Chain lookups from Redis: one round trip whatever the depth (counted with MONITOR), and their latency. */
export async function chainResolution(
  config: AppConfig,
  depths: number[],
  iterations: number,
): Promise<ChainResolution[]> {
  const redis = new RedisService(config, new Telemetry());
  await redis.onModuleInit();
  const cache = new ResponseCache(redis, config);
  try {
    const results: ChainResolution[] = [];
    for (const depth of depths) {
      const responses = chain(depth);
      await cache.save(responses);
      const head = responses[depth - 1];
      const check = await cache.chain(head.id, BENCH_OWNER);
      if (!check.ok || check.value.found.length !== depth) throw new Error(`depth ${depth}: chain not fully cached`);
      const commands = await commandsSentBy(redis.client, () => cache.chain(head.id, BENCH_OWNER));
      const { p50, p99 } = await timed(iterations, () => cache.chain(head.id, BENCH_OWNER));
      results.push({ depth, round_trips: commands.length, commands, p50_us: p50, p99_us: p99 });
    }
    return results;
  } finally {
    await redis.onApplicationShutdown();
  }
}

/** The PostgreSQL fallback: one recursive query per chain. */
export async function databaseFallback(
  config: AppConfig,
  depths: number[],
  iterations: number,
): Promise<DatabaseFallback[]> {
  const prisma = new PrismaService(config);
  const repository = new ResponseRepository(prisma);
  try {
    const results: DatabaseFallback[] = [];
    for (const depth of depths) {
      const responses = chain(depth);
      await repository.insertMany(responses);
      const head = responses[depth - 1];
      if ((await repository.chain(head.id, BENCH_OWNER)).length !== depth)
        throw new Error(`depth ${depth}: wrong chain`);
      const { p50, p99 } = await timed(iterations, () => repository.chain(head.id, BENCH_OWNER));
      results.push({ depth, p50_us: p50, p99_us: p99 });
    }
    return results;
  } finally {
    await prisma.onApplicationShutdown();
  }
}

/** Spend-log writer rows/s against a plain multi-row INSERT through pg, same rows shape and batch size. */
export async function writerThroughput(config: AppConfig, rows: number): Promise<WriterThroughput> {
  const telemetry = new Telemetry();
  const journalRedis = new RedisService(config, telemetry);
  const prisma = new PrismaService(config);
  const repository = new ResponseRepository(prisma);
  const writer = new SpendLogWriter(repository, config, telemetry, new ResponseJournal(journalRedis, config));
  const pg = new Client({ connectionString: config.databaseUrl });
  await pg.connect();
  try {
    const make = () =>
      Array.from({ length: Math.ceil(rows / 10) }, () => chain(10))
        .flat()
        .slice(0, rows);
    await repository.insertMany(chain(5)); // warm the client

    const forWriter = make();
    const writerStart = performance.now();
    for (const row of forWriter) writer.enqueue(row);
    await writer.flush();
    const writerSeconds = (performance.now() - writerStart) / 1000;
    if (writer.stats().queueDepth !== 0) throw new Error('writer did not drain');

    const forPlain = make();
    const plainStart = performance.now();
    for (let offset = 0; offset < forPlain.length; offset += config.spendLogBatchSize) {
      await plainInsert(pg, forPlain.slice(offset, offset + config.spendLogBatchSize));
    }
    const plainSeconds = (performance.now() - plainStart) / 1000;
    const writerRate = rows / writerSeconds;
    const plainRate = rows / plainSeconds;
    return {
      rows,
      writer_rows_per_s: Math.round(writerRate),
      plain_insert_rows_per_s: Math.round(plainRate),
      ratio: Math.round((writerRate / plainRate) * 1000) / 1000,
    };
  } finally {
    await pg.end();
    await prisma.onApplicationShutdown();
    await journalRedis.onApplicationShutdown();
  }
}

const COLUMNS = [
  'id',
  'session_id',
  'parent_response_id',
  'owner_hash',
  'model',
  'store',
  'input',
  'instructions',
  'output',
  'params',
  'metadata',
  'status',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'history_source',
  'created_at',
  'completed_at',
];

async function plainInsert(pg: Client, rows: StoredResponse[]): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((r) => {
    const base = values.length;
    values.push(
      `${r.id}x${randomBytes(2).toString('hex')}`,
      r.sessionId,
      r.previousResponseId,
      r.ownerHash,
      r.model,
      r.store,
      JSON.stringify(r.input),
      r.instructions,
      JSON.stringify(r.output),
      JSON.stringify(r.params),
      JSON.stringify(r.metadata),
      r.status,
      r.usage.input_tokens,
      r.usage.output_tokens,
      r.usage.total_tokens,
      r.historySource,
      new Date(r.createdAt),
      new Date(r.completedAt ?? r.createdAt),
    );
    return `(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(',')})`;
  });
  await pg.query(
    `INSERT INTO responses (${COLUMNS.join(',')}) VALUES ${tuples.join(',')} ON CONFLICT DO NOTHING`,
    values,
  );
}
