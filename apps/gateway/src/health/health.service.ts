import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { RedisService } from '@app/redis';
import { roundMs } from '../common/round-ms';

export interface DependencyState {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
}

export interface Readiness {
  /** ok: all up; degraded: Redis down (served without cache); down: PostgreSQL down. */
  status: 'ok' | 'degraded' | 'down';
  checks: { postgres: DependencyState; redis: DependencyState };
}

@Injectable()
export class HealthService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  async readiness(): Promise<Readiness> {
    const [db, cache] = await Promise.all([this.prisma.check(), this.redis.ping()]);
    const postgres: DependencyState = db.ok
      ? { status: 'up', latencyMs: roundMs(db.latencyMs) }
      : { status: 'down', error: db.error };
    const redis: DependencyState = cache.ok
      ? { status: 'up', latencyMs: roundMs(cache.value) }
      : { status: 'down', error: cache.error };
    const status = postgres.status === 'down' ? 'down' : redis.status === 'down' ? 'degraded' : 'ok';
    return { status, checks: { postgres, redis } };
  }
}
