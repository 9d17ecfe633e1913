import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig, describeRedisTarget } from '@app/config';
import { Telemetry } from '@app/telemetry';
import { Cluster } from 'ioredis';
import { CircuitBreaker } from './circuit-breaker';
import { createRedisClient, RedisClient } from './redis-client.factory';
import { describeRedisError, isTimeout, RedisErrorContext } from './redis-errors';
import { RateLimitedLogger } from './rate-limited-logger';

export type RedisOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface RedisCounters {
  failures: number;
  timeouts: number;
  /** Calls not made because the circuit was open. */
  skipped: number;
  lastError?: string;
  /** Since when the circuit is open (ISO time), or null. */
  circuitOpenSince: string | null;
}

export interface AttemptOptions {
  /** Made even while the circuit is open (health probes, /cache/ping). */
  bypassCircuit?: boolean;
}

const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Owns the one ioredis client, whatever the topology (single node, Sentinel, Cluster; TLS or not):
 * nothing above this class knows which runs. Redis is an accelerator, never a dependency: commands are
 * bounded by a short timeout, nothing queues while disconnected, and failures are counted and
 * logged at a bounded rate instead of reaching callers (use `attempt`).
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly client: RedisClient;
  readonly target: string;
  private readonly logger = new Logger('Redis');
  private readonly failureLog = new RateLimitedLogger(this.logger, FAILURE_LOG_INTERVAL_MS);
  private readonly counters = { failures: 0, timeouts: 0, skipped: 0, lastError: undefined as string | undefined };
  private lastConnectionError?: string;
  private readonly circuit = new CircuitBreaker();
  private circuitTimer?: NodeJS.Timeout;
  private readonly commandTimeoutMs: number;
  /** What failures are described against (TLS advice depends on it). */
  readonly errorContext: RedisErrorContext;
  private unavailable = false;
  private readonly drains: Array<() => Promise<void>> = [];
  private readonly troubleListeners: Array<() => void> = [];
  private lastTroubleAt = -Infinity;

  constructor(
    config: AppConfig,
    private readonly telemetry: Telemetry,
  ) {
    this.target = describeRedisTarget(config.redis);
    this.errorContext = { tls: config.redis.tls, clientCertificate: config.redis.tlsSettings.cert !== undefined };
    this.commandTimeoutMs = config.redisCommandTimeoutMs;
    this.client = createRedisClient(config);
    this.client.on('error', (error: unknown) => this.recordFailure('connection', error));
    this.client.on('ready', () => this.onReady());
    // A connection closing (a node killed, a Sentinel switch) may take acknowledged writes with it.
    this.client.on('close', () => this.troubled());
    if (this.client instanceof Cluster) {
      this.client.on('-node', () => this.troubled());
      // A node's own failure (its TLS, auth, NOPERM): the cluster-level error only says the refresh failed.
      this.client.on('node error', (error: unknown) => {
        this.troubled();
        this.recordFailure('connection', error);
      });
    }
  }

  /**
   * `listener` runs whenever Redis may have lost, or may be hiding, what it was given: a connection
   * closed, a Cluster node left, or calls kept failing (the circuit opened; a single slow call under
   * load is no such sign). Writes Redis vouched for must then go elsewhere at once.
   */
  onTrouble(listener: () => void): void {
    this.troubleListeners.push(listener);
  }

  /** Whether trouble (see `onTrouble`) was seen within the last `ms`. */
  troubledWithin(ms: number): boolean {
    return Date.now() - this.lastTroubleAt <= ms;
  }

  private troubled(): void {
    this.lastTroubleAt = Date.now();
    for (const listener of this.troubleListeners) listener();
  }

  async onModuleInit(): Promise<void> {
    this.logger.log(`Connecting to ${this.target}`);
    try {
      await this.client.connect();
    } catch {
      // Counted and logged by the 'error' handler; ioredis keeps retrying in the background.
    }
    this.connectAttempted();
  }

  private connectAttempted: () => void = () => undefined;
  /** Resolves once the first connection attempt has succeeded or failed (whatever order modules start in). */
  readonly firstConnectAttempt = new Promise<void>((resolve) => (this.connectAttempted = resolve));

  /** Work that must reach Redis before the client quits at shutdown (the writer's last flush and the journal). */
  drainBeforeQuit(drain: () => Promise<void>): void {
    this.drains.push(drain);
  }

  /**
   * After the HTTP server has closed, so requests finishing during shutdown still have the cache; the
   * drains run first whatever order Nest calls modules in.
   */
  async onApplicationShutdown(): Promise<void> {
    for (const drain of this.drains.splice(0)) await drain();
    clearInterval(this.circuitTimer);
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  stats(): RedisCounters {
    const since = this.circuit.openSince;
    return { ...this.counters, circuitOpenSince: since === null ? null : new Date(since).toISOString() };
  }

  /** Why the connection is not ready, in words (the last connection error). */
  get connectionProblem(): string {
    return this.lastConnectionError ?? 'not connected';
  }

  /** Whether calls are being skipped because Redis kept failing. */
  get circuitOpen(): boolean {
    return this.circuit.isOpen;
  }

  /**
   * Runs a Redis operation; a failure is counted, logged at a bounded rate and returned, never thrown.
   * It costs at most REDIS_COMMAND_TIMEOUT_MS from this call, however long the commands queued before it
   * take (auto-pipelining), and nothing while the circuit is open.
   */
  async attempt<T>(
    operation: string,
    run: (client: RedisClient) => Promise<T>,
    options: AttemptOptions = {},
  ): Promise<RedisOutcome<T>> {
    if (this.circuit.isOpen && !options.bypassCircuit) {
      this.counters.skipped += 1;
      this.telemetry.redisErrors.inc({ operation, kind: 'skipped' });
      return { ok: false, error: `circuit open (${this.counters.lastError ?? 'Redis failing'})` };
    }
    const started = performance.now();
    try {
      const value = await withTimeout(run(this.client), this.commandTimeoutMs);
      this.telemetry.recordRedis(operation, (performance.now() - started) / 1000);
      this.circuit.recordSuccess();
      return { ok: true, value };
    } catch (error) {
      this.telemetry.recordRedis(
        operation,
        (performance.now() - started) / 1000,
        isTimeout(error) ? 'timeout' : 'error',
      );
      const reason = this.recordFailure(operation, error);
      if (this.circuit.recordFailure()) this.onCircuitOpen(reason);
      return { ok: false, error: reason };
    }
  }

  /** Round-trip latency of a PING, or why it failed. */
  async ping(): Promise<RedisOutcome<number>> {
    const started = process.hrtime.bigint();
    const outcome = await this.attempt('ping', (client) => client.ping(), { bypassCircuit: true });
    if (!outcome.ok) return outcome;
    return { ok: true, value: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  private recordFailure(operation: string, error: unknown): string {
    const reason = describeRedisError(error, this.errorContext);
    this.counters.failures += 1;
    if (isTimeout(error)) this.counters.timeouts += 1;
    this.counters.lastError = reason;
    if (operation === 'connection') {
      this.lastConnectionError = reason;
      this.telemetry.redisErrors.inc({ operation, kind: isTimeout(error) ? 'timeout' : 'error' });
      if (!this.unavailable) this.failureLog.reset();
      this.unavailable = true;
      this.failureLog.warn(
        `Redis unavailable at ${this.target} (${reason}); serving without the cache, reconnecting in the background`,
      );
    } else {
      this.failureLog.warn(
        `Redis command failed at ${this.target} (${operation}: ${reason}); served without the cache`,
      );
    }
    return reason;
  }

  private onCircuitOpen(reason: string): void {
    this.troubled();
    this.logger.warn(`Redis keeps failing (${reason}): skipping the cache until a probe succeeds`);
    clearInterval(this.circuitTimer);
    this.circuitTimer = setInterval(() => void this.probeCircuit(), 250);
    this.circuitTimer.unref();
  }

  /** While the circuit is open: a PING after each cool-down; success closes it. */
  private async probeCircuit(): Promise<void> {
    if (!this.circuit.takeProbe()) return;
    const outcome = await this.attempt('probe', (client) => client.ping(), { bypassCircuit: true });
    if (this.circuit.probed(outcome.ok)) this.onCircuitClosed();
  }

  private onCircuitClosed(): void {
    clearInterval(this.circuitTimer);
    this.logger.log(`Redis answers again at ${this.target}: the cache is used again`);
  }

  private onReady(): void {
    if (this.circuit.reset()) this.onCircuitClosed();
    if (this.unavailable) this.logger.log(`Redis connection to ${this.target} restored`);
    else this.logger.log(`Connected to ${this.target}`);
    this.unavailable = false;
    this.failureLog.reset();
  }
}

/**
 * The operation's result, or a timeout error once `ms` have passed since the call (not since it was sent).
 * The timeout is given up after the loop's next I/O phase: timers run before I/O in each loop iteration,
 * so on a busy loop a reply that arrived in time would otherwise lose to a deadline that passed while it
 * waited in the socket (a saturated service would see Redis "time out" and open the circuit).
 */
function withTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const timedOut = () => reject(new Error(`Command timed out after ${ms} ms`));
    timer = setTimeout(() => setImmediate(timedOut), ms).unref();
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
