import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '@app/config';
import { tagsOnEveryNode } from './key-slots';
import { RedisService } from './redis.service';

export type ProbeStep = 'connect' | 'ping' | 'write' | 'read' | 'delete';
export type ProbeResult =
  { ok: true; latencyMs: number; at: number } | { ok: false; step: ProbeStep; reason: string; at: number };

const PROBE_INTERVAL_MS = 2_000;
const PROBE_DELETE = "return redis.call('DEL', KEYS[1])";

/**
 * Judges Redis the way the service uses it, in the background: a PING, then a write, a read and a
 * scripted delete of a probe key under the namespace, hash-tagged into a slot of each Cluster master. READONLY
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

  /**
   * One probe, step by step, stopping at the first failure; on a Cluster the write, read and delete run
   * once per master (a key in one of its slots), so one master down or read-only shows. Bypasses the
   * circuit breaker.
   */
  async run(): Promise<ProbeResult> {
    const at = Date.now();
    const fail = (step: ProbeStep, reason: string): ProbeResult => ({ ok: false, step, reason, at });
    if (!this.redis.isReady) return fail('connect', this.redis.connectionProblem);
    const ping = await this.redis.ping();
    if (!ping.ok) return fail('ping', ping.error);
    const targets = tagsOnEveryNode(this.redis.client, 'probe');
    if (targets.length === 0) return fail('connect', 'no Cluster master serves slots yet');
    for (const { tag, node } of targets) {
      const failed = await this.writeReadDelete(`${this.config.redisKeyPrefix}:{${tag}}:${randomHex()}`);
      if (failed) return fail(failed.step, targets.length > 1 ? `${failed.reason} (master ${node})` : failed.reason);
    }
    return { ok: true, latencyMs: ping.value, at };
  }

  private async writeReadDelete(key: string): Promise<{ step: ProbeStep; reason: string } | undefined> {
    const options = { bypassCircuit: true };
    const value = randomHex();
    const write = await this.redis.attempt('probe', (client) => client.set(key, value, 'PX', 10_000), options);
    if (!write.ok) return { step: 'write', reason: write.error };
    const read = await this.redis.attempt('probe', (client) => client.get(key), options);
    if (!read.ok) return { step: 'read', reason: read.error };
    if (read.value !== value) return { step: 'read', reason: 'the probe key read back a different value' };
    const removed = await this.redis.attempt('probe', (client) => client.eval(PROBE_DELETE, 1, key), options);
    if (!removed.ok) return { step: 'delete', reason: removed.error };
    return undefined;
  }
}

function randomHex(): string {
  return randomBytes(8).toString('hex');
}
