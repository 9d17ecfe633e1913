import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig } from '@app/config';
import { PrismaService } from '@app/database';
import { RedisService } from '@app/redis';
import { ResponseJournal, ResponseRepository, SpendLogWriter } from '@app/session-store';
import { Telemetry } from '@app/telemetry';
import { eventually } from './support/eventually';
import { storedChain, storedResponse } from './support/records';
import { createDatabase, dropDatabase, migrate, withDatabase } from './setup/test-services';

interface Harness {
  writer: SpendLogWriter;
  prisma: PrismaService;
  count(ids: string[]): Promise<number>;
  close(): Promise<void>;
}

async function harness(env: Record<string, string>): Promise<Harness> {
  const config = new AppConfig({ ...process.env, ...env });
  const telemetry = new Telemetry();
  const prisma = new PrismaService(config);
  const repository = new ResponseRepository(prisma);
  const redis = new RedisService(config, telemetry);
  const writer = new SpendLogWriter(repository, config, telemetry, new ResponseJournal(redis, config));
  writer.onModuleInit();
  const pg = new Client({ connectionString: config.databaseUrl });
  return {
    writer,
    prisma,
    async count(ids) {
      await pg.connect().catch(() => undefined);
      const result = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM responses WHERE id = ANY($1)', [
        ids,
      ]);
      return result.rows[0]?.n ?? 0;
    },
    async close() {
      await prisma.onApplicationShutdown(); // drains the writer first
      await redis.onApplicationShutdown(); // the journal's deletions connected it
      await pg.end().catch(() => undefined);
    },
  };
}

/** Writes a chain of `length` through the writer; `expectFound` looks it up (PostgreSQL) from its newest response. */
async function writtenChain(h: Harness, length: number): Promise<{ expectFound(): Promise<void> }> {
  const chain = storedChain(length);
  for (const row of chain) h.writer.enqueue(row);
  await h.writer.flush();
  const repository = new ResponseRepository(h.prisma);
  const newest = chain[length - 1];
  const ids = chain.map((response) => response.id).reverse();
  return {
    async expectFound() {
      const found = await repository.chain(newest.id, newest.ownerHash);
      expect(found.map((response) => response.id)).toEqual(ids);
    },
  };
}

/** The statements prepared on the connection `direct` runs on (the harness's pool of one). */
async function preparedStatements(h: Harness): Promise<string[]> {
  const { rows } = await h.prisma.direct<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name', []);
  return rows.map((row) => row.name);
}

describe('SpendLogWriter on a real PostgreSQL', () => {
  it('waits for the interval, but flushes early once a full batch waits', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000', SPEND_LOG_BATCH_SIZE: '5' });
    try {
      const rows = storedChain(4);
      rows.forEach((row) => h.writer.enqueue(row));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await h.count(rows.map((r) => r.id))).toBe(0);
      expect(h.writer.stats().queueDepth).toBe(4);

      const fifth = storedResponse();
      h.writer.enqueue(fifth);
      await eventually(async () => (await h.count([...rows, fifth].map((r) => r.id))) === 5);
      expect(h.writer.stats()).toMatchObject({ queueDepth: 0, rowsWritten: 5, failedFlushes: 0 });
    } finally {
      await h.close();
    }
  });

  it('writes on the flush interval', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '100' });
    try {
      const row = storedResponse();
      h.writer.enqueue(row);
      expect(h.writer.find(row.id)).toBe(row);
      await eventually(async () => (await h.count([row.id])) === 1);
      expect(h.writer.find(row.id)).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('is idempotent: writing the same response twice keeps one row', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      const row = storedResponse();
      h.writer.enqueue(row);
      await h.writer.flush();
      h.writer.enqueue({ ...row });
      await h.writer.flush();
      expect(await h.count([row.id])).toBe(1);
      expect(h.writer.stats().failedFlushes).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('keeps rows while PostgreSQL fails, retries with backoff, and writes them all once it is back', async () => {
    const adminUrl = process.env.TEST_ADMIN_DATABASE_URL as string;
    const database = `rsc_late_${randomBytes(4).toString('hex')}`;
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '100', DATABASE_URL: withDatabase(adminUrl, database) });
    try {
      const rows = storedChain(3);
      rows.forEach((row) => h.writer.enqueue(row));
      await eventually(async () => h.writer.stats().failedFlushes >= 2);
      expect(h.writer.stats().queueDepth).toBe(3);
      expect(rows.every((row) => h.writer.find(row.id) === row)).toBe(true);

      await createDatabase(adminUrl, database);
      await migrate(withDatabase(adminUrl, database));
      await eventually(async () => h.writer.stats().queueDepth === 0, Boolean, 20_000);
      expect(await h.count(rows.map((r) => r.id))).toBe(3);
    } finally {
      await h.close();
      await dropDatabase(adminUrl, database);
    }
  });

  it('flushes everything still queued when the module is destroyed (shutdown)', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    const rows = storedChain(7);
    rows.forEach((row) => h.writer.enqueue(row));
    await h.prisma.onApplicationShutdown(); // as at shutdown: the writer drains before the disconnect
    expect(await h.count(rows.map((r) => r.id))).toBe(7);
    await h.close();
  });

  it('sets aside a row PostgreSQL refuses and still writes the rest of its batch', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      const good = storedChain(2);
      const refused = storedResponse({ ownerHash: 'x'.repeat(80) }); // CHAR(64): a data error (22001)
      [good[0], refused, good[1]].forEach((row) => row && h.writer.enqueue(row));
      await h.writer.flush();
      expect(await h.count(good.map((r) => r.id))).toBe(2);
      expect(await h.count([refused.id])).toBe(0);
      expect(h.writer.stats()).toMatchObject({ queueDepth: 0, rowsWritten: 2, rowsRejected: 1, failedFlushes: 0 });
    } finally {
      await h.close();
    }
  });

  it('sets aside a row that cannot even become SQL (nested 5,000 deep) and keeps writing the others', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      let schema: Record<string, unknown> = { type: 'string' };
      for (let depth = 0; depth < 5_000; depth += 1) schema = { type: 'object', properties: { a: schema } };
      const poison = storedResponse({ status: 'failed' });
      poison.params = {
        ...poison.params,
        text: { format: { type: 'json_schema', name: 'deep', schema, strict: null } },
      };
      const before = storedResponse();
      const after = storedResponse();
      [before, poison, after].forEach((row) => h.writer.enqueue(row));
      await h.writer.flush();
      expect(await h.count([before.id, after.id])).toBe(2);
      expect(h.writer.stats()).toMatchObject({ queueDepth: 0, rowsWritten: 2, rowsRejected: 1, failedFlushes: 0 });
      expect(h.writer.find(poison.id)).toBeUndefined();

      const next = storedResponse();
      h.writer.enqueue(next);
      await h.writer.flush();
      expect(await h.count([next.id])).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('stores text PostgreSQL would refuse (NUL anywhere, lone surrogates) with U+FFFD in its place', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      const row = storedResponse({ instructions: 'be\u0000brief', metadata: { 'key\u0000': 'lone \ud800 surrogate' } });
      const [item] = row.input;
      if (item?.type === 'message') item.content = [{ type: 'input_text', text: 'hi\u0000there' }];
      h.writer.enqueue(row);
      await h.writer.flush();
      expect(h.writer.stats()).toMatchObject({ rowsWritten: 1, rowsRejected: 0 });
      const found = await h.prisma.responseRecord.findUnique({ where: { id: row.id } });
      expect(found?.instructions).toBe('be\uFFFDbrief');
      expect(JSON.stringify(found?.input)).toContain('hi\uFFFDthere');
      expect(found?.metadata).toEqual({ 'key\uFFFD': 'lone \uFFFD surrogate' });
    } finally {
      await h.close();
    }
  });

  it('keeps content exactly, whatever characters it holds', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      const tricky = 'say "hi" \\ {a,b} (c) \'q\' NULL ünïcødé 🎉\n\ttab \u001e\u001f\u0001 end';
      const row = storedResponse({ instructions: tricky, metadata: { note: tricky } });
      const [item] = row.input;
      if (item?.type === 'message') item.content = [{ type: 'input_text', text: tricky }];
      // In the same batch, rows whose JSON columns are empty (SQL NULL) or hold the same characters.
      const notStored = storedResponse({ store: false, metadata: {} });
      const failed = storedResponse({ status: 'failed', error: { code: 'x', message: tricky } });
      for (const queued of [notStored, row, failed]) h.writer.enqueue(queued);
      await h.writer.flush();
      const repository = new ResponseRepository(h.prisma);
      expect(await repository.find(row.id, row.ownerHash)).toEqual(row);
      expect(await repository.find(failed.id, failed.ownerHash)).toEqual(failed);
      const empty = await h.prisma.responseRecord.findUnique({ where: { id: notStored.id } });
      expect(empty).toMatchObject({ input: null, output: null, error: null, incompleteDetails: null });
    } finally {
      await h.close();
    }
  });

  it.each([
    ['prepares the insert and the chain lookup once per connection', '', ['rsc_chain', 'rsc_insert_responses']],
    ['prepares nothing when DATABASE_URL says pgbouncer=true', 'pgbouncer=true', []],
  ])('%s', async (_, query, prepared) => {
    const url = new URL(process.env.DATABASE_URL ?? '');
    if (query) url.search = query;
    // One pooled connection: the statements below all run on it.
    const h = await harness({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '1' });
    try {
      const chain = await writtenChain(h, 3);
      await chain.expectFound();
      await chain.expectFound();
      expect(await preparedStatements(h)).toEqual(prepared);
    } finally {
      await h.close();
    }
  });

  it('runs statements unprepared once PostgreSQL says a prepared one does not exist (a pooler without pgbouncer=true)', async () => {
    const h = await harness({ DATABASE_POOL_SIZE: '1' });
    try {
      const chain = await writtenChain(h, 2);
      await chain.expectFound();
      // What a pooler in transaction mode does: the next statement reaches a server connection that never
      // prepared it, while the client believes it did.
      await h.prisma.direct('DEALLOCATE ALL', []);
      await chain.expectFound();
      const more = storedChain(1);
      h.writer.enqueue(more[0]);
      await h.writer.flush();
      expect(h.writer.stats()).toMatchObject({ failedFlushes: 0, rowsRejected: 0 });
      expect(await h.count(more.map((response) => response.id))).toBe(1);
      expect(await preparedStatements(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('still finds chains once a migration has added a column while the lookup was prepared', async () => {
    const h = await harness({ DATABASE_POOL_SIZE: '1' });
    const column = `added_${randomBytes(4).toString('hex')}`;
    try {
      const chain = await writtenChain(h, 2);
      await chain.expectFound();
      await h.prisma.direct(`ALTER TABLE responses ADD COLUMN ${column} integer`, []);
      await chain.expectFound();
    } finally {
      await h.prisma.direct(`ALTER TABLE responses DROP COLUMN IF EXISTS ${column}`, []);
      await h.close();
    }
  });

  it('applies a deletion to a row that is not written yet', async () => {
    const h = await harness({ SPEND_LOG_FLUSH_INTERVAL_MS: '600000' });
    try {
      const row = storedResponse();
      h.writer.enqueue(row);
      h.writer.markDeleted(row.id, Date.now());
      await h.writer.flush();
      const found = await h.prisma.responseRecord.findUnique({ where: { id: row.id } });
      expect(found).toMatchObject({ input: null, output: null });
      expect(found?.deletedAt).toBeInstanceOf(Date);
    } finally {
      await h.close();
    }
  });
});
