import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// Prisma's binary engines cannot be downloaded on our machines: the CLI runs on the
// JavaScript engine through the pg driver adapter (see docs/prisma.md).
const connectionString = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // A short idle timeout: otherwise the CLI waits 10 s for pg-pool's idle connections before exiting.
  adapter: async () => new PrismaPg({ connectionString, idleTimeoutMillis: 100 }),
});
