import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDatabase, dropDatabase, migrate, withDatabase } from './setup/test-services';

describe('npm run db:migrate', () => {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL as string;
  const database = `rsc_migrate_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(adminUrl, database);

  beforeAll(() => createDatabase(adminUrl, database));
  afterAll(() => dropDatabase(adminUrl, database));

  it('creates the responses and conversations tables with their indexes on an empty database, and a second run is a no-op', async () => {
    expect(await migrate(url)).toMatch(/All migrations have been successfully applied/);
    expect(await migrate(url)).toMatch(/No pending migrations to apply/);

    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const columns = await client.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'responses' ORDER BY column_name",
      );
      expect(columns.rows.map((row) => row.column_name)).toEqual(
        expect.arrayContaining([
          'id',
          'session_id',
          'parent_response_id',
          'owner_hash',
          'model',
          'input',
          'instructions',
          'output',
          'input_tokens',
          'output_tokens',
          'total_tokens',
          'status',
          'error',
          'metadata',
          'created_at',
          'completed_at',
        ]),
      );
      const indexes = await client.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'responses'",
      );
      const definitions = indexes.rows.map((row) => row.indexdef).join('\n');
      expect(definitions).toMatch(/UNIQUE INDEX responses_pkey .*\(id\)/);
      expect(definitions).toMatch(/\(parent_response_id\)/);
      expect(definitions).toMatch(/\(session_id, created_at\)/);
      const applied = await client.query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL');
      expect(applied.rowCount).toBe(3);
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'conversation%' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(['conversation_items', 'conversations']);
      const version = await client.query<{ data_type: string; column_default: string }>(
        "SELECT data_type, column_default FROM information_schema.columns WHERE table_name = 'conversations' AND column_name = 'version'",
      );
      expect(version.rows).toEqual([{ data_type: 'bigint', column_default: '0' }]);
      const triggers = await client.query<{ tgname: string }>(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'conversation_items'::regclass AND NOT tgisinternal ORDER BY tgname",
      );
      expect(triggers.rows.map((row) => row.tgname)).toEqual([
        'conversation_items_deleted',
        'conversation_items_inserted',
      ]);
      const itemIndexes = await client.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'conversation_items'",
      );
      expect(itemIndexes.rows.map((row) => row.indexdef).join('\n')).toMatch(
        /UNIQUE INDEX \S+ ON public\.conversation_items USING btree \(conversation_id, item_id\)/,
      );
    } finally {
      await client.end();
    }
  });
});
