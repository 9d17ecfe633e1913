import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import { roundMs } from '../common/round-ms';
import { redisHint } from './redis-hints';

export type PingResult =
  | {
      status: 'ok';
      target: string;
      latency_ms: number;
      probe: { write: 'ok'; read: 'ok'; delete: 'ok' };
      warnings: string[];
    }
  | { status: 'error'; target: string; failed_step: string; reason: string; hint: string; warnings: string[] };

const PROBE_DELETE = "return redis.call('DEL', KEYS[1])";

/**
 * Proves the cache works end to end: PING, then a write, a read and a scripted delete of a probe key
 * under the namespace (the same permissions the service needs), or says in words why not.
 */
@Injectable()
export class CachePing {
  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  async run(): Promise<PingResult> {
    const target = this.redis.target;
    const warnings = this.config.redis.warnings;
    const fail = (step: string, reason: string): PingResult => ({
      status: 'error',
      target,
      failed_step: step,
      reason,
      hint: redisHint(reason, this.config),
      warnings,
    });
    if (!this.redis.isReady) return fail('connect', this.redis.stats().lastError ?? 'not connected');

    const ping = await this.redis.ping();
    if (!ping.ok) return fail('ping', ping.error);
    const key = `${this.config.redisKeyPrefix}:probe:${randomBytes(8).toString('hex')}`;
    const value = randomBytes(8).toString('hex');
    const write = await this.redis.attempt('probe', (client) => client.set(key, value, 'PX', 10_000));
    if (!write.ok) return fail('write', write.error);
    const read = await this.redis.attempt('probe', (client) => client.get(key));
    if (!read.ok) return fail('read', read.error);
    if (read.value !== value) return fail('read', 'the probe key read back a different value');
    const removed = await this.redis.attempt('probe', (client) => client.eval(PROBE_DELETE, 1, key));
    if (!removed.ok) return fail('delete', removed.error);
    return {
      status: 'ok',
      target,
      latency_ms: roundMs(ping.value),
      probe: { write: 'ok', read: 'ok', delete: 'ok' },
      warnings,
    };
  }
}
