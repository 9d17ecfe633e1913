import { Module } from '@nestjs/common';
import { RedisService } from '@app/redis';
import { CacheInspector, ResponseCache } from '@app/session-store';
import { AdminGuard } from './admin.guard';
import { CacheController } from './cache.controller';
import { CachePing } from './cache-ping';
import { CacheStats } from './cache-stats';
import { MetricsController } from './metrics.controller';

@Module({
  controllers: [CacheController, MetricsController],
  providers: [
    AdminGuard,
    CachePing,
    CacheStats,
    {
      provide: CacheInspector,
      inject: [RedisService, ResponseCache],
      useFactory: (redis: RedisService, cache: ResponseCache) => new CacheInspector(redis.client, cache.keys),
    },
  ],
})
export class OpsModule {}
