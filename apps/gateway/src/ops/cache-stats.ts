import { Injectable } from '@nestjs/common';
import { RedisService } from '@app/redis';
import { CacheInspector, GroupCommit, JournalRecovery, ResponseJournal, SpendLogWriter } from '@app/session-store';
import { Telemetry } from '@app/telemetry';
import { roundMs } from '../common/round-ms';

/** Everything `GET /cache/stats` shows: history lookups by layer, Redis health, the writer. */
@Injectable()
export class CacheStats {
  constructor(
    private readonly telemetry: Telemetry,
    private readonly redis: RedisService,
    private readonly writer: SpendLogWriter,
    private readonly inspector: CacheInspector,
    private readonly journal: ResponseJournal,
    private readonly recovery: JournalRecovery,
    private readonly groupCommit: GroupCommit,
  ) {}

  async collect() {
    const lookups = await this.telemetry.lookupCounts();
    const total = lookups.hit + lookups.partial + lookups.db + lookups.miss;
    const layers = await this.telemetry.layerCounts();
    const p50 = this.telemetry.redisLatency.quantile(0.5);
    const p99 = this.telemetry.redisLatency.quantile(0.99);
    const served = layers.redis + layers.buffer + layers.postgres;
    const counters = this.redis.stats();
    const [namespace, info] = this.redis.isReady
      ? await Promise.all([this.inspector.overview().catch(() => null), this.inspector.info().catch(() => null)])
      : [null, null];
    const writer = this.writer.stats();
    return {
      history: {
        lookups,
        hit_ratio: total === 0 ? null : round(lookups.hit / total),
        responses_by_layer: layers,
        redis_response_ratio: served === 0 ? null : round(layers.redis / served),
        backfilled_responses: await this.telemetry.total(this.telemetry.backfilled),
      },
      redis: {
        target: this.redis.target,
        connected: this.redis.isReady,
        errors: counters.failures,
        timeouts: counters.timeouts,
        skipped: counters.skipped,
        circuit_open_since: counters.circuitOpenSince,
        last_error: counters.lastError ?? null,
        latency_ms: {
          p50: p50 === null ? null : roundMs(p50),
          p99: p99 === null ? null : roundMs(p99),
          samples: this.telemetry.redisLatency.size,
        },
        namespace,
        info,
      },
      spend_log: {
        queue_depth: writer.queueDepth,
        rows_written: writer.rowsWritten,
        failed_flushes: writer.failedFlushes,
        rows_rejected: writer.rowsRejected,
        rows_dropped: writer.rowsDropped,
        pending_bytes: writer.pendingBytes,
        at_capacity: writer.atCapacity,
        ...this.groupCommit.stats(),
        last_flush_at: writer.lastFlushAt === null ? null : new Date(writer.lastFlushAt).toISOString(),
        last_error: writer.lastError,
      },
      journal: {
        ...this.journal.stats(),
        ...this.recovery.stats(),
        eviction_warning: this.journal.evictionWarning,
      },
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
