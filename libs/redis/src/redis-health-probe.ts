import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '@app/config';
import { RedisService } from './redis.service';

export type ProbeStep = 'connect' | 'ping' | 'write' | 'read' | 'delete';
export type ProbeResult =
  { ok: true; latencyMs: number; at: number } | { ok: false; step: ProbeStep; reason: string; at: number };

const PROBE_INTERVAL_MS = 2_000;
const PROBE_DELETE = "return redis.call('DEL', KEYS[1])";

/**
 * Judges Redis the way the service uses it, in the background: a PING, then a write, a read and a
 * scripted delete of a probe key under the namespace, hash-tagged so it works on a Cluster. READONLY
 * (a replica after a failover), CLUSTERDOWN, NOPERM, MOVED or authentication failures show here, in
 * words, although a PING alone would succeed. Readiness reads the last result and never waits.
 */
@Injectable()
export class RedisHealthProbe implements OnModuleInit, OnApplicationShutdown {
  private last: ProbeResult = { ok: false, step: 'connect', reason: 'not probed yet', at: 0 };
  private timer?: NodeJS.Timeout;
  private running?: Promise<ProbeResult>;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.redis.client.on('ready', () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), PROBE_INTERVAL_MS);
    this.timer.unref();
    await this.redis.firstConnectAttempt; // bounded by the connect timeout
    await this.refresh(); // bounded by the command timeout: readiness has a first answer at start
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Where Redis is (password redacted). */
  get target(): string {
    return this.redis.target;
  }

  /** The last probe's result. */
  get state(): ProbeResult {
    return this.last;
  }

  /** Probes now (one probe at a time) and keeps the result. */
  refresh(): Promise<ProbeResult> {
    this.running ??= this.run()
      .then((result) => (this.last = result))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** One probe, step by step, stopping at the first failure. Bypasses the circuit breaker. */
  async run(): Promise<ProbeResult> {
    const at = Date.now();
    const fail = (step: ProbeStep, reason: string): ProbeResult => ({ ok: false, step, reason, at });
    if (!this.redis.isReady) return fail('connect', this.redis.connectionProblem);
    const ping = await this.redis.ping();
    if (!ping.ok) return fail('ping', ping.error);
    const options = { bypassCircuit: true };
    const key = `${this.config.redisKeyPrefix}:{probe}:${randomBytes(8).toString('hex')}`;
    const value = randomBytes(8).toString('hex');
    const write = await this.redis.attempt('probe', (client) => client.set(key, value, 'PX', 10_000), options);
    if (!write.ok) return fail('write', write.error);
    const read = await this.redis.attempt('probe', (client) => client.get(key), options);
    if (!read.ok) return fail('read', read.error);
    if (read.value !== value) return fail('read', 'the probe key read back a different value');
    const removed = await this.redis.attempt('probe', (client) => client.eval(PROBE_DELETE, 1, key), options);
    if (!removed.ok) return fail('delete', removed.error);
    return { ok: true, latencyMs: ping.value, at };
  }
}
