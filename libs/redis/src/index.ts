export * from './rate-limited-logger';
export * from './redis-errors';
export * from './redis.module';
export * from './redis.service';
