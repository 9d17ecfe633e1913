import { Global, Module } from '@nestjs/common';
import { RedisHealthProbe } from './redis-health-probe';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService, RedisHealthProbe], exports: [RedisService, RedisHealthProbe] })
export class RedisModule {}
