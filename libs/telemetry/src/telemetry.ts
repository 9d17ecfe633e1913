import { Injectable } from '@nestjs/common';
import { Span } from '@opentelemetry/api';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LatencyWindow } from './latency-window';
import { ATTRIBUTES } from './trace-names';

export type HistoryLayer = 'redis' | 'buffer' | 'postgres';
export type HistoryOutcome = 'hit' | 'partial' | 'db' | 'miss';

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const FAST_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Every counter the ops surface shows, in one Prometheus registry per application (labels are
 * bounded: routes, layers, outcomes, never ids), plus recent Redis latencies for percentiles.
 */
@Injectable()
export class Telemetry {
  readonly registry = new Registry();
  readonly redisLatency = new LatencyWindow();

  readonly httpDuration = new Histogram({
    name: 'rsc_http_request_duration_seconds',
    help: 'HTTP request duration by route and status, streams until their last byte',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'rsc_upstream_duration_seconds',
    help: 'Upstream call duration (until the last byte of its answer)',
    labelNames: ['api', 'stream', 'outcome'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'rsc_overhead_seconds',
    help: "The service's own time per POST /v1/responses: total duration minus upstream duration",
    labelNames: ['stream'] as const,
    buckets: FAST_SECONDS,
    registers: [this.registry],
  });
  readonly historyLookups = new Counter({
    name: 'rsc_history_lookups_total',
    help: 'previous_response_id lookups by where the history came from (hit, partial, db, miss)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly historyResponses = new Counter({
    name: 'rsc_history_responses_total',
    help: 'Ancestor responses served per layer (redis, buffer = unflushed writer rows, postgres)',
    labelNames: ['layer'] as const,
    registers: [this.registry],
  });
  readonly backfilled = new Counter({
    name: 'rsc_cache_backfilled_responses_total',
    help: 'Responses written back to Redis after a fallback lookup',
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: 'rsc_redis_errors_total',
    help: 'Redis failures (served without the cache) by operation and kind',
    labelNames: ['operation', 'kind'] as const,
    registers: [this.registry],
  });
  readonly redisDuration = new Histogram({
    name: 'rsc_redis_command_duration_seconds',
    help: 'Redis round trips by operation',
    labelNames: ['operation'] as const,
    buckets: FAST_SECONDS,
    registers: [this.registry],
  });
  readonly spendLogQueueDepth = new Gauge({
    name: 'rsc_spend_log_queue_depth',
    help: 'Spend-log rows waiting to be written to PostgreSQL',
    registers: [this.registry],
  });
  readonly spendLogRowsWritten = new Counter({
    name: 'rsc_spend_log_rows_written_total',
    help: 'Spend-log rows written to PostgreSQL',
    registers: [this.registry],
  });
  readonly spendLogRowsFailed = new Counter({
    name: 'rsc_spend_log_rows_failed_total',
    help: 'Spend-log rows in batches that failed (they stay queued and are retried)',
    registers: [this.registry],
  });
  readonly historyFallbacksRefused = new Counter({
    name: 'rsc_history_fallbacks_refused_total',
    help: 'Chain lookups in PostgreSQL refused (503) because HISTORY_FALLBACK_CONCURRENCY lookups ran and as many waited',
    registers: [this.registry],
  });
  readonly requestsShed = new Counter({
    name: 'rsc_requests_shed_total',
    help: 'API requests refused with 503 server_overloaded before any work (admission control)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rsc_' });
  }

  /** A gauge read at scrape time from the state its owner keeps (readiness, queue age, …). */
  gaugeFrom(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  recordRedis(operation: string, seconds: number, failure?: 'timeout' | 'error'): void {
    this.redisDuration.observe({ operation }, seconds);
    this.redisLatency.record(seconds * 1000);
    if (failure) this.redisErrors.inc({ operation, kind: failure });
  }

  /** Counts a history lookup, and tells its span (when traced) where the history came from. */
  recordHistory(outcome: HistoryOutcome, perLayer: Partial<Record<HistoryLayer, number>> = {}, span?: Span): void {
    this.historyLookups.inc({ outcome });
    for (const [layer, count] of Object.entries(perLayer)) {
      if (count > 0) this.historyResponses.inc({ layer }, count);
    }
    if (span?.isRecording()) {
      span.setAttributes({
        [ATTRIBUTES.historySource]: outcome,
        [ATTRIBUTES.historyFromRedis]: perLayer.redis ?? 0,
        [ATTRIBUTES.historyFromBuffer]: perLayer.buffer ?? 0,
        [ATTRIBUTES.historyFromPostgres]: perLayer.postgres ?? 0,
      });
    }
  }

  lookupCounts(): Promise<Record<HistoryOutcome, number>> {
    return countsBy(this.historyLookups, 'outcome', ['hit', 'partial', 'db', 'miss']);
  }

  layerCounts(): Promise<Record<HistoryLayer, number>> {
    return countsBy(this.historyResponses, 'layer', ['redis', 'buffer', 'postgres']);
  }

  async total(counter: Counter): Promise<number> {
    return (await counter.get()).values.reduce((sum, value) => sum + value.value, 0);
  }
}

/** A counter's value per value of one label, 0 for those not counted yet. */
async function countsBy<K extends string>(
  counter: Counter,
  label: string,
  keys: readonly K[],
): Promise<Record<K, number>> {
  const counts = Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
  for (const value of (await counter.get()).values) counts[value.labels[label] as K] = value.value;
  return counts;
}
