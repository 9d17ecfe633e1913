export * from './circuit-breaker';
export * from './rate-limited-logger';
export * from './redis-errors';
export * from './redis-client.factory';
export * from './redis-health-probe';
export * from './redis.module';
export * from './redis.service';
export * from './key-slots';
