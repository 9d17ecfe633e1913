import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { RedisService } from '@app/redis';
import { SpendLogWriter } from '@app/session-store';
import { roundMs } from '../common/round-ms';
import { DrainState } from '../lifecycle/drain-state';

export interface DependencyState {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
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
   * nor PostgreSQL is reachable). draining (503): SIGTERM received, finishing what is in flight.
   */
  status: 'ok' | 'degraded' | 'down' | 'draining';
  reasons: string[];
  checks?: { postgres: DependencyState; redis: DependencyState; spend_log: WriterState };
}

@Injectable()
export class HealthService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly writer: SpendLogWriter,
    private readonly drain: DrainState,
  ) {}

  async readiness(): Promise<Readiness> {
    if (this.drain.draining) {
      return { status: 'draining', reasons: ['shutting down: finishing the requests in flight, taking no new work'] };
    }
    const [db, cache] = await Promise.all([this.prisma.check(), this.redis.ping()]);
    const postgres: DependencyState = db.ok
      ? { status: 'up', latencyMs: roundMs(db.latencyMs) }
      : { status: 'down', error: db.error };
    const redis: DependencyState = cache.ok
      ? { status: 'up', latencyMs: roundMs(cache.value) }
      : { status: 'down', error: cache.error };
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
      reasons.push(`Redis is unreachable (${redis.error}): served without the cache, stored responses written at once`);
    }
    const down = full !== null || (postgres.status === 'down' && redis.status === 'down');
    const status = down ? 'down' : reasons.length > 0 ? 'degraded' : 'ok';
    return { status, reasons, checks: { postgres, redis, spend_log: spendLog } };
  }
}
