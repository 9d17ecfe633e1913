import { randomBytes } from 'node:crypto';
import { createDatabase, migrate, withDatabase } from './test-services';

interface StartedContainer {
  stop(): Promise<unknown>;
}

declare global {
  var __testContainers: StartedContainer[] | undefined;
}

/**
 * Gives every test run its own PostgreSQL database (migrated) and Redis key prefix, so runs never
 * collide. Uses REDIS_URL / DATABASE_URL when set; otherwise starts testcontainers (needs Docker).
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  globalThis.__testContainers = [];

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const redis = await withHint('REDIS_URL', () => new RedisContainer('redis:7-alpine').start());
    globalThis.__testContainers.push(redis);
    redisUrl = redis.getConnectionUrl();
  }
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const postgres = await withHint('DATABASE_URL', () => new PostgreSqlContainer('postgres:16-alpine').start());
    globalThis.__testContainers.push(postgres);
    adminUrl = postgres.getConnectionUri();
  }

  const database = `rsc_test_${runId}`;
  await createDatabase(adminUrl, database);
  const databaseUrl = withDatabase(adminUrl, database);
  await migrate(databaseUrl);

  // Workers are forked after this and inherit the environment.
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_DATABASE_NAME = database;
  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = redisUrl;
  process.env.REDIS_KEY_PREFIX = `rsc-test-${runId}`;
}

async function withHint<T>(variable: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${variable} is not set and testcontainers could not start a container (${reason}). ` +
        'Without Docker, point the tests at running services, e.g. REDIS_URL=redis://127.0.0.1:6379 ' +
        'DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm test',
    );
  }
}
