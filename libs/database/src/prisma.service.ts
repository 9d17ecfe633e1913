import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig, redactUrl } from '@app/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, QueryConfig } from 'pg';
import { PrismaClient } from './generated/prisma/client';

export type DatabaseCheck = { ok: true; latencyMs: number } | { ok: false; error: string };

const CONNECT_TIMEOUT_MS = 5_000;
const CHECK_TIMEOUT_MS = 3_000;
const RETRY_MAX_DELAY_MS = 30_000;

/**
 * The Prisma client on the pg driver adapter (no binary engine). An unreachable PostgreSQL
 * does not stop start-up: it is reported by the readiness check and retried in the background.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private readonly target: string;
  private retryTimer?: NodeJS.Timeout;
  private destroyed = false;
  private readonly drains: Array<() => Promise<void>> = [];

  /** The adapter's connection pool, ours so that hot paths can use it directly (see `direct`). */
  private readonly pool: Pool;
  private prepared: boolean;

  constructor(config: AppConfig) {
    const pool = new Pool({
      connectionString: config.databaseUrl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      max: config.databasePoolSize,
    });
    // Ours to end (after Prisma disconnects): Prisma must not end the pool `direct` relies on.
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: false }) });
    this.pool = pool;
    this.prepared = config.databasePreparedStatements;
    this.target = redactUrl(config.databaseUrl);
    // A pooled connection PostgreSQL drops while idle: the pool discards it and opens another when
    // needed. Without a listener the error would end the process.
    pool.on('error', (error) =>
      this.logger.warn(`An idle PostgreSQL connection was closed: ${describeDatabaseError(error)}`),
    );
  }

  /**
   * One statement straight through the pool under Prisma, for the per-response hot paths (the
   * spend-log batches, the chain fallback): Prisma's query compiler and tracing cost more CPU than
   * those statements themselves (`npm run bench -- --saturation`, docs/performance.md). Failures
   * are pg's errors, whose `code` is the SQLSTATE. A statement given a `name` (one name, one SQL text)
   * is prepared once per connection: PostgreSQL then plans it once, not at every call (planning the
   * recursive chain query cost four times its execution). Not when DATABASE_URL says `pgbouncer=true`,
   * nor once PostgreSQL has refused a prepared statement (see `unprepared`).
   */
  async direct<Row extends object>(
    sql: string,
    values: unknown[],
    name?: string,
  ): Promise<{ rows: Row[]; rowCount: number }> {
    if (name === undefined || !this.prepared) return this.run<Row>({ text: sql, values });
    try {
      return await this.run<Row>({ name, text: sql, values });
    } catch (error) {
      if (!isPreparedStatementTrouble(error)) throw error;
      this.unprepared(error);
      return this.run<Row>({ text: sql, values });
    }
  }

  private async run<Row extends object>(query: QueryConfig): Promise<{ rows: Row[]; rowCount: number }> {
    const result = await this.pool.query<Row>(query);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  }

  /**
   * A prepared statement was refused before it ran (safe to run again): a pooler in transaction mode
   * sent it to a server connection that never prepared it, or a migration changed what it returns.
   * Statements go unprepared from now on, and the operator is told why.
   */
  private unprepared(error: unknown): void {
    if (!this.prepared) return;
    this.prepared = false;
    this.logger.warn(
      `PostgreSQL refused a prepared statement (${describeDatabaseError(error)}); statements run unprepared ` +
        'from now on. Behind a pooler in transaction mode, add pgbouncer=true to DATABASE_URL.',
    );
  }

  async onModuleInit(): Promise<void> {
    await this.connectOrRetry(0);
  }

  /** Work that must reach PostgreSQL before the connection closes at shutdown (the writer's last flush). */
  drainBeforeDisconnect(drain: () => Promise<void>): void {
    this.drains.push(drain);
  }

  /**
   * Runs after the HTTP server has closed (Nest: destroy hooks, then the server, then these), so no
   * request can add work after the drains; they run first whatever order Nest calls modules in.
   */
  async onApplicationShutdown(): Promise<void> {
    this.destroyed = true;
    clearTimeout(this.retryTimer);
    for (const drain of this.drains.splice(0)) await drain();
    await this.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }

  /**
   * Round trip of `SELECT 1` through the pool, bounded by a timeout. Not through Prisma: its query
   * compiler (WebAssembly, about 14 MB of resident memory) is then loaded only by the first query that
   * needs Prisma (a response read back from PostgreSQL, a deletion), not by start-up and readiness checks.
   */
  async check(): Promise<DatabaseCheck> {
    const started = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref();
    });
    try {
      await Promise.race([this.pool.query('SELECT 1'), timeout]);
      return { ok: true, latencyMs: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch (error) {
      return { ok: false, error: describeDatabaseError(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  private async connectOrRetry(attempt: number): Promise<void> {
    const result = await this.check();
    if (this.destroyed) return;
    if (result.ok) {
      this.logger.log(`${attempt === 0 ? 'Connected' : 'Reconnected'} to ${this.target}`);
      return;
    }
    const delay = Math.min(1_000 * 2 ** attempt, RETRY_MAX_DELAY_MS);
    if (attempt === 0 || delay < RETRY_MAX_DELAY_MS || attempt % 10 === 0) {
      this.logger.error(`PostgreSQL unavailable at ${this.target} (${result.error}); retrying in ${delay} ms`);
    }
    this.retryTimer = setTimeout(() => void this.connectOrRetry(attempt + 1), delay);
    this.retryTimer.unref();
  }
}

const UNREACHABLE = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'];

/**
 * A prepared statement refused before running: SQLSTATE 26000 it does not exist (on this server
 * connection), 42P05 it exists already, 0A000 its cached plan would change its result type.
 */
function isPreparedStatementTrouble(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === '26000' || code === '42P05') return true;
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan');
}

/** One line saying why PostgreSQL could not be used (Prisma wraps driver errors in a long message). */
export function describeDatabaseError(error: unknown): string {
  const { message, errors, name, code, address, port } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown;
    errors?: unknown;
    name?: unknown;
    code?: unknown;
    address?: unknown;
    port?: unknown;
  };
  // pg tries every address of a host name; when all fail it throws them together, with no message.
  if (Array.isArray(errors) && errors.length > 0) return [...new Set(errors.map(describeDatabaseError))].join('; ');
  // A refused or unroutable connection, in the words Prisma uses for it.
  if (typeof code === 'string' && UNREACHABLE.includes(code) && typeof address === 'string') {
    return `Can't reach database server at ${address}${typeof port === 'number' ? `:${port}` : ''}`;
  }
  if (typeof message !== 'string') return String(error);
  const driverMessage = /Message: `([^`]+)`/.exec(message)?.[1];
  if (driverMessage) return driverMessage;
  const lines = message.split('\n').map((line) => line.trim());
  return lines.filter((line) => line !== '').pop() ?? String(name);
}
