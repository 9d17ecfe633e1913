import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig, describeRedisTarget } from '@app/config';
import { Telemetry } from '@app/telemetry';
import Redis from 'ioredis';
import { describeRedisError, isTimeout } from './redis-errors';
import { RateLimitedLogger } from './rate-limited-logger';

export type RedisOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface RedisCounters {
  failures: number;
  timeouts: number;
  lastError?: string;
}

const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Owns the one ioredis client. Redis is an accelerator, never a dependency: commands are
 * bounded by a short timeout, nothing queues while disconnected, and failures are counted and
 * logged at a bounded rate instead of reaching callers (use `attempt`).
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;
  readonly target: string;
  private readonly logger = new Logger('Redis');
  private readonly failureLog = new RateLimitedLogger(this.logger, FAILURE_LOG_INTERVAL_MS);
  private readonly counters: RedisCounters = { failures: 0, timeouts: 0 };
  private unavailable = false;
  private readonly drains: Array<() => Promise<void>> = [];

  constructor(
    config: AppConfig,
    private readonly telemetry: Telemetry,
  ) {
    const { redis } = config;
    this.target = describeRedisTarget(redis);
    this.client = new Redis({
      host: redis.host,
      port: redis.port,
      username: redis.username,
      password: redis.password,
      db: redis.db,
      tls: redis.tls ? {} : undefined,
      lazyConnect: true,
      // Commands issued in the same tick share one write: fewer system calls under load.
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      commandTimeout: config.redisCommandTimeoutMs,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
    });
    this.client.on('error', (error: unknown) => this.recordFailure('connection', error));
    this.client.on('ready', () => this.onReady());
  }

  async onModuleInit(): Promise<void> {
    this.logger.log(`Connecting to ${this.target}`);
    try {
      await this.client.connect();
    } catch {
      // Counted and logged by the 'error' handler; ioredis keeps retrying in the background.
    }
  }

  /** Work that must reach Redis before the client quits at shutdown (the writer's last flush and the journal). */
  drainBeforeQuit(drain: () => Promise<void>): void {
    this.drains.push(drain);
  }

  /**
   * After the HTTP server has closed, so requests finishing during shutdown still have the cache; the
   * drains run first whatever order Nest calls modules in.
   */
  async onApplicationShutdown(): Promise<void> {
    for (const drain of this.drains.splice(0)) await drain();
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  stats(): RedisCounters {
    return { ...this.counters };
  }

  /** Runs a Redis operation; a failure is counted, logged at a bounded rate and returned, never thrown. */
  async attempt<T>(operation: string, run: (client: Redis) => Promise<T>): Promise<RedisOutcome<T>> {
    const started = performance.now();
    try {
      const value = await run(this.client);
      this.telemetry.recordRedis(operation, (performance.now() - started) / 1000);
      return { ok: true, value };
    } catch (error) {
      this.telemetry.recordRedis(
        operation,
        (performance.now() - started) / 1000,
        isTimeout(error) ? 'timeout' : 'error',
      );
      return { ok: false, error: this.recordFailure(operation, error) };
    }
  }

  /** Round-trip latency of a PING, or why it failed. */
  async ping(): Promise<RedisOutcome<number>> {
    const started = process.hrtime.bigint();
    const outcome = await this.attempt('ping', (client) => client.ping());
    if (!outcome.ok) return outcome;
    return { ok: true, value: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  private recordFailure(operation: string, error: unknown): string {
    const reason = describeRedisError(error);
    this.counters.failures += 1;
    if (isTimeout(error)) this.counters.timeouts += 1;
    this.counters.lastError = reason;
    if (operation === 'connection') {
      this.telemetry.redisErrors.inc({ operation, kind: isTimeout(error) ? 'timeout' : 'error' });
      if (!this.unavailable) this.failureLog.reset();
      this.unavailable = true;
      this.failureLog.warn(
        `Redis unavailable at ${this.target} (${reason}); serving without the cache, reconnecting in the background`,
      );
    } else {
      this.failureLog.warn(
        `Redis command failed at ${this.target} (${operation}: ${reason}); served without the cache`,
      );
    }
    return reason;
  }

  private onReady(): void {
    if (this.unavailable) this.logger.log(`Redis connection to ${this.target} restored`);
    else this.logger.log(`Connected to ${this.target}`);
    this.unavailable = false;
    this.failureLog.reset();
  }
}
