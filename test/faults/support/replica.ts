import { Client } from 'pg';
import { uniquePrefix } from '../../support/gateway';
import { NodeProcess } from '../../support/process';
import { freePort } from '../../support/redis-server';

const GATEWAY = 'dist/apps/gateway/src/main.js';

/** One replica of the built service, as its own process (`npm run build` first). */
export interface Replica {
  url: string;
  port: number;
  process: NodeProcess;
}

/**
 * The environment replicas of one test share: one key namespace and fast recovery. The run's
 * DATABASE_URL and REDIS_URL reach each replica from this process's environment unless `env` overrides them.
 * Admission control is off unless `env` sets it (test/faults/overload.fault-spec.ts): on a machine shared by
 * the test, Redis nodes and several replicas, a descheduled replica must not refuse what a test asserts on.
 */
export function sharedEnv(env: Record<string, string>): Record<string, string> {
  return {
    REDIS_KEY_PREFIX: uniquePrefix(),
    JOURNAL_ORPHAN_AFTER_MS: '2000',
    LOG_LEVEL: 'info',
    OVERLOAD_QUEUE_TARGET_MS: '0',
    ...env,
  };
}

/** Starts the built service on `port` (a free one unless given: a restart on the same seat). */
export async function startReplica(env: Record<string, string>, port?: number): Promise<Replica> {
  port ??= await freePort();
  const child = NodeProcess.start(GATEWAY, { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await child.waitFor(/Listening on/, 30_000);
  return { url: `http://127.0.0.1:${port}`, port, process: child };
}

/** How many of `ids` PostgreSQL holds as finished, stored responses. */
export async function storedInPostgres(ids: string[]): Promise<number> {
  const pg = new Client({ connectionString: process.env.DATABASE_URL });
  await pg.connect();
  try {
    const result = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM responses WHERE id = ANY($1) AND store AND status = 'completed'`,
      [ids],
    );
    return result.rows[0]?.n ?? 0;
  } finally {
    await pg.end();
  }
}
