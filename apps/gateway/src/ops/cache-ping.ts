import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { RedisHealthProbe } from '@app/redis';
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

/**
 * Proves the cache works end to end, now: PING, then a write, a read and a scripted delete of a probe
 * key under the namespace (the same permissions the service needs), or says in words why not.
 */
@Injectable()
export class CachePing {
  constructor(
    private readonly probe: RedisHealthProbe,
    private readonly config: AppConfig,
  ) {}

  async run(): Promise<PingResult> {
    const result = await this.probe.run();
    const target = this.probe.target;
    const warnings = this.config.redis.warnings;
    if (!result.ok) {
      const { step, reason } = result;
      return { status: 'error', target, failed_step: step, reason, hint: redisHint(reason, this.config), warnings };
    }
    const probe = { write: 'ok', read: 'ok', delete: 'ok' } as const;
    return { status: 'ok', target, latency_ms: roundMs(result.latencyMs), probe, warnings };
  }
}
