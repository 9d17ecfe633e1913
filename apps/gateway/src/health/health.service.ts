import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DatabaseCheck, PrismaService } from '@app/database';
import { RedisHealthProbe, RedisService } from '@app/redis';
import { Telemetry } from '@app/telemetry';
import { SpendLogWriter } from '@app/session-store';
import { roundMs } from '../common/round-ms';
import { DrainState } from '../lifecycle/drain-state';

export interface DependencyState {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
  /** Redis: the probe step that failed (connect, ping, write, read, delete). */
  step?: string;
}

export interface WriterState {
  status: 'ok' | 'full';
  queueDepth: number;
  reason?: string;
}

export interface Readiness {
  /**
   * ok: all up. degraded (still 200): Redis or PostgreSQL down, this replica still serves every turn.
   * down (503): it cannot keep stored responses (the writer's queue is at its bound, or neither Redis
   * nor PostgreSQL is usable). draining (503): SIGTERM received, finishing what is in flight.
   */
  status: 'ok' | 'degraded' | 'down' | 'draining';
  reasons: string[];
  checks?: { postgres: DependencyState; redis: DependencyState; spend_log: WriterState };
}

const DATABASE_CHECK_INTERVAL_MS = 2_000;

/**
 * Readiness from states kept up to date in the background (PostgreSQL's `SELECT 1` every 2 s, the Redis
 * probe, the circuit breaker, the writer's bound, the drain): answering never waits on a dependency.
 */
@Injectable()
export class HealthService implements OnModuleInit, OnApplicationShutdown {
  private database: DatabaseCheck = { ok: false, error: 'not checked yet' };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly redisProbe: RedisHealthProbe,
    private readonly writer: SpendLogWriter,
    private readonly drain: DrainState,
    telemetry: Telemetry,
  ) {
    // For dashboards and alerts: what readiness says, as numbers read at scrape time.
    const level = { ok: 2, degraded: 1, down: 0, draining: 0 };
    telemetry.gaugeFrom(
      'rsc_readiness',
      'Readiness: 2 ok, 1 degraded (still serving), 0 down or draining (/health/ready answers 503)',
      () => level[this.readiness().status],
    );
    telemetry.gaugeFrom('rsc_redis_up', '1 when the Redis probe (write, read, scripted delete) passes', () =>
      this.redisState().status === 'up' ? 1 : 0,
    );
    telemetry.gaugeFrom('rsc_postgres_up', '1 when PostgreSQL answers its background check', () =>
      this.database.ok ? 1 : 0,
    );
  }

  async onModuleInit(): Promise<void> {
    this.timer = setInterval(() => void this.checkDatabase(), DATABASE_CHECK_INTERVAL_MS);
    this.timer.unref();
    await this.checkDatabase(); // bounded by the check's own timeout
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  readiness(): Readiness {
    if (this.drain.draining) {
      return { status: 'draining', reasons: ['shutting down: finishing the requests in flight, taking no new work'] };
    }
    const db = this.database;
    const postgres: DependencyState = db.ok
      ? { status: 'up', latencyMs: roundMs(db.latencyMs) }
      : { status: 'down', error: db.error };
    const redis = this.redisState();
    const full = this.writer.atCapacity;
    const queueDepth = this.writer.stats().queueDepth;
    const spendLog: WriterState = full ? { status: 'full', queueDepth, reason: full } : { status: 'ok', queueDepth };

    const reasons: string[] = [];
    if (full) reasons.push(`stored responses are refused: ${full}`);
    if (postgres.status === 'down' && redis.status === 'down') {
      reasons.push('neither Redis nor PostgreSQL is reachable: stored responses cannot be kept');
    } else if (postgres.status === 'down') {
      reasons.push(`PostgreSQL is unreachable (${postgres.error}): served from Redis, unwritten rows are journaled`);
    } else if (redis.status === 'down') {
      reasons.push(`Redis cannot be used (${redis.error}): served without the cache, stored responses written at once`);
    }
    const down = full !== null || (postgres.status === 'down' && redis.status === 'down');
    const status = down ? 'down' : reasons.length > 0 ? 'degraded' : 'ok';
    return { status, reasons, checks: { postgres, redis, spend_log: spendLog } };
  }

  private redisState(): DependencyState {
    const probe = this.redisProbe.state;
    if (!probe.ok) return { status: 'down', error: probe.reason, step: probe.step };
    if (this.redis.circuitOpen) {
      return { status: 'down', error: `calls skipped after repeated failures (${this.redis.stats().lastError})` };
    }
    return { status: 'up', latencyMs: roundMs(probe.latencyMs) };
  }

  private async checkDatabase(): Promise<void> {
    this.database = await this.prisma.check();
  }
}
