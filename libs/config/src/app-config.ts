import { ConfigError } from './config-error';
import { booleanFrom, Env, integerFrom, oneOf, readEnv, urlFrom } from './env-parsers';
import { RedisTarget, resolveRedisTarget } from './redis-target';

export const UPSTREAM_APIS = ['chat', 'responses'] as const;
export type UpstreamApi = (typeof UPSTREAM_APIS)[number];

export const SESSION_TAG_SCOPES = ['owner', 'session'] as const;
export type SessionTagScope = (typeof SESSION_TAG_SCOPES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * Every setting of the gateway, read once from the environment and validated.
 * A bad value fails start-up with a ConfigError naming the variable.
 */
export class AppConfig {
  readonly port: number;
  readonly host: string;
  /**
   * Connections the kernel may hold for us before we accept them (capped by net.core.somaxconn). Beyond
   * it a new connection's SYN is dropped and its client retries after 1 s, then 3 s: a burst of new
   * connections while the event loop is busy must queue here, not be dropped.
   */
  readonly listenBacklog: number;
  readonly upstreamBaseUrl: string;
  readonly upstreamApi: UpstreamApi;
  readonly upstreamApiKey?: string;
  /** Upper bound on one upstream call, including a whole stream. */
  readonly upstreamTimeoutMs: number;
  /** Connections per upstream origin; 0: unlimited (every open stream holds one). */
  readonly upstreamMaxConnections: number;
  readonly redis: RedisTarget;
  readonly redisKeyPrefix: string;
  /** Upper bound on one Redis command before it counts as a failure. */
  readonly redisCommandTimeoutMs: number;
  readonly databaseUrl: string;
  /**
   * Whether hot statements are prepared once per connection (named): false when DATABASE_URL says
   * `pgbouncer=true` (Prisma's convention), as a pooler in transaction mode may run the next statement
   * on a server connection that never saw the preparation.
   */
  readonly databasePreparedStatements: boolean;
  /** Pooled PostgreSQL connections of this process. */
  readonly databasePoolSize: number;
  /** History lookups in PostgreSQL at once (the rest of the pool stays free for other work). */
  readonly historyFallbackConcurrency: number;
  readonly sessionTtlSeconds: number;
  readonly sessionMaxResponses: number;
  /**
   * `owner`: a session's Redis tag derives from owner and session id. `session`: from the session id alone,
   * as versions before 2026-11-23 did, for the first step of a rolling upgrade from them (never for good:
   * tenants using the same session id then share its cap).
   */
  readonly sessionTagScope: SessionTagScope;
  readonly spendLogFlushIntervalMs: number;
  readonly spendLogBatchSize: number;
  /** Unwritten spend-log rows held at most; at the bound new stored turns are refused (503). */
  readonly spendLogMaxPending: number;
  /** The same bound on the unwritten rows' serialized size. */
  readonly spendLogMaxPendingBytes: number;
  /**
   * Off: acknowledged responses live only in this process until the writer flushes (lost on a crash);
   * for measuring what durability costs (`npm run bench`) and deployments that accept that.
   */
  readonly durableJournal: boolean;
  /** A replica's journal is recovered by the others once its heartbeat is this old. */
  readonly journalOrphanAfterMs: number;
  readonly bodyLimitBytes: number;
  /** After SIGTERM: how long new connections are still served (readiness already says draining). */
  readonly shutdownDelayMs: number;
  /** Then: how long requests and streams in flight may run before they are cut. */
  readonly shutdownGraceMs: number;
  /** Other `/v1/*` requests (chat completions, embeddings, models, …) are proxied to the upstream unchanged. */
  readonly passthrough: boolean;
  /** Admission control: API requests are shed while a standing queue keeps every one longer than this (0: never). */
  readonly overloadQueueTargetMs: number;
  /** Required (as a bearer token) by the /cache ops endpoints when set. */
  readonly adminApiKey?: string;
  readonly logLevel: LogLevel;

  constructor(env: Env = process.env) {
    this.port = integerFrom(env, 'PORT', 8080, 0, 65535);
    this.host = readEnv(env, 'HOST') ?? '0.0.0.0';
    this.listenBacklog = integerFrom(env, 'LISTEN_BACKLOG', 4096, 1, 65_535);
    this.upstreamBaseUrl = urlFrom(env, 'UPSTREAM_BASE_URL', 'http://127.0.0.1:4000/v1', ['http:', 'https:'])
      .toString()
      .replace(/\/+$/, '');
    this.upstreamApi = oneOf(env, 'UPSTREAM_API', UPSTREAM_APIS, 'chat');
    this.upstreamApiKey = readEnv(env, 'UPSTREAM_API_KEY');
    this.upstreamTimeoutMs = integerFrom(env, 'UPSTREAM_TIMEOUT_MS', 600_000, 100, 3_600_000);
    this.upstreamMaxConnections = integerFrom(env, 'UPSTREAM_MAX_CONNECTIONS', 0, 0, 100_000);
    this.redis = resolveRedisTarget(env);
    this.redisKeyPrefix = redisKeyPrefixFrom(env);
    this.redisCommandTimeoutMs = integerFrom(env, 'REDIS_COMMAND_TIMEOUT_MS', 250, 10, 60_000);
    const databaseUrl = urlFrom(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, ['postgresql:', 'postgres:']);
    this.databaseUrl = databaseUrl.toString();
    this.databasePreparedStatements = databaseUrl.searchParams.get('pgbouncer') !== 'true';
    this.databasePoolSize = integerFrom(env, 'DATABASE_POOL_SIZE', 10, 1, 1_000);
    this.historyFallbackConcurrency = integerFrom(
      env,
      'HISTORY_FALLBACK_CONCURRENCY',
      Math.ceil(this.databasePoolSize / 2),
      1,
      this.databasePoolSize,
    );
    this.sessionTtlSeconds = integerFrom(env, 'SESSION_TTL_SECONDS', 60, 1, 30 * 24 * 3600);
    this.sessionMaxResponses = integerFrom(env, 'SESSION_MAX_RESPONSES', 50, 1, 10_000);
    this.sessionTagScope = oneOf(env, 'SESSION_TAG_SCOPE', SESSION_TAG_SCOPES, 'owner');
    this.spendLogFlushIntervalMs = integerFrom(env, 'SPEND_LOG_FLUSH_INTERVAL_MS', 10_000, 10, 3_600_000);
    this.spendLogBatchSize = integerFrom(env, 'SPEND_LOG_BATCH_SIZE', 100, 1, 10_000);
    this.spendLogMaxPending = integerFrom(env, 'SPEND_LOG_MAX_PENDING', 20_000, 1, 10_000_000);
    this.spendLogMaxPendingBytes = integerFrom(env, 'SPEND_LOG_MAX_PENDING_BYTES', 32 * 1024 * 1024, 1024, 2 ** 40);
    this.durableJournal = booleanFrom(env, 'DURABLE_JOURNAL') ?? true;
    this.journalOrphanAfterMs = integerFrom(env, 'JOURNAL_ORPHAN_AFTER_MS', 10_000, 1_000, 3_600_000);
    this.bodyLimitBytes = integerFrom(env, 'BODY_LIMIT_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
    this.shutdownDelayMs = integerFrom(env, 'SHUTDOWN_DELAY_MS', 5_000, 0, 600_000);
    this.shutdownGraceMs = integerFrom(env, 'SHUTDOWN_GRACE_MS', 15_000, 0, 3_600_000);
    this.passthrough = booleanFrom(env, 'PASSTHROUGH') ?? true;
    this.overloadQueueTargetMs = integerFrom(env, 'OVERLOAD_QUEUE_TARGET_MS', 50, 0, 60_000);
    this.adminApiKey = readEnv(env, 'ADMIN_API_KEY');
    this.logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info');
  }
}

function redisKeyPrefixFrom(env: Env): string {
  const prefix = readEnv(env, 'REDIS_KEY_PREFIX') ?? 'rsc';
  // Braces would break the {session} hash tags that keep a session in one Cluster slot.
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('REDIS_KEY_PREFIX', `may hold only letters, digits and _.:- (1-64 chars), got "${prefix}"`);
  }
  return prefix;
}
