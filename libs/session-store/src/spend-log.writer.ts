import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { describeDatabaseError } from '@app/database';
import { Telemetry } from '@app/telemetry';
import { ResponseRepository } from './response-repository';
import { StoredResponse } from './stored-response';

export interface SpendLogStats {
  queueDepth: number;
  rowsWritten: number;
  failedFlushes: number;
  /** Rows PostgreSQL refused on their own (logged with their id); they are not retried. */
  rowsRejected: number;
  lastFlushAt: number | null;
  lastError: string | null;
}

const MAX_RETRY_DELAY_MS = 30_000;
const SHUTDOWN_FLUSH_DEADLINE_MS = 15_000;

/**
 * The delayed writer: every response (stored or not, completed or failed) is queued and written to
 * PostgreSQL in batches every SPEND_LOG_FLUSH_INTERVAL_MS, or as soon as SPEND_LOG_BATCH_SIZE rows wait.
 * Inserts are idempotent; a failed batch stays queued and is retried with backoff; the queue is flushed
 * on shutdown. Until written, rows are readable here (read-your-writes when Redis is down).
 */
@Injectable()
export class SpendLogWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SpendLog');
  private queue: StoredResponse[] = [];
  private readonly unwritten = new Map<string, StoredResponse>();
  private readonly inFlight = new Set<string>();
  private readonly deletedInFlight = new Map<string, number>();
  private flushing?: Promise<void>;
  private closing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private readonly stats_: Omit<SpendLogStats, 'queueDepth'> = {
    rowsWritten: 0,
    failedFlushes: 0,
    rowsRejected: 0,
    lastFlushAt: null,
    lastError: null,
  };

  constructor(
    private readonly repository: ResponseRepository,
    private readonly config: AppConfig,
    private readonly telemetry: Telemetry,
  ) {
    repository.drainBeforeDisconnect(() => this.onApplicationShutdown());
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.spendLogFlushIntervalMs);
    this.timer.unref();
  }

  /**
   * The last flush, once the HTTP server is closed (nothing new can arrive) and before PostgreSQL
   * disconnects (PrismaService drains it first). Retried until a deadline; what still fails is logged.
   */
  onApplicationShutdown(): Promise<void> {
    // Called twice (PrismaService drains it; Nest calls the hook): the work is done once.
    this.closing ??= this.finalFlush();
    return this.closing;
  }

  private async finalFlush(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing; // a flush in flight (and its raced deletions) finishes first
    const deadline = Date.now() + SHUTDOWN_FLUSH_DEADLINE_MS;
    while (this.queue.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (this.queue.length > 0) {
      const ids = this.queue.map((row) => row.id).join(', ');
      this.logger.error(`Shutdown: ${this.queue.length} spend-log rows could not be written: ${ids}`);
    }
  }

  enqueue(response: StoredResponse): void {
    if (this.closing) {
      // A request cut off by the shutdown finishing late: try to write it before the disconnect.
      this.logger.warn(`Spend-log row ${response.id} arrived during shutdown; writing it now`);
      void this.flush();
    }
    this.queue.push(response);
    this.unwritten.set(response.id, response);
    this.telemetry.spendLogQueueDepth.set(this.queue.length);
    if (this.queue.length >= this.config.spendLogBatchSize) void this.flush();
  }

  /** A queued or in-flight row, not yet confirmed in PostgreSQL. */
  find(id: string): StoredResponse | undefined {
    return this.unwritten.get(id);
  }

  /** Applies a DELETE to a row that is not written yet (or is being written right now). */
  markDeleted(id: string, at: number): void {
    const row = this.unwritten.get(id);
    if (!row) return;
    row.deletedAt = at;
    if (this.inFlight.has(id)) this.deletedInFlight.set(id, at);
  }

  stats(): SpendLogStats {
    return { queueDepth: this.queue.length, ...this.stats_ };
  }

  /** Writes every queued row (in batches); a failure keeps the rows queued for a later retry. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && Date.now() >= this.retryAt) {
      const batch = this.queue.slice(0, this.config.spendLogBatchSize);
      batch.forEach((row) => this.inFlight.add(row.id));
      let refused: Array<{ row: StoredResponse; reason: string }>;
      try {
        refused = await this.insertBatch(batch);
      } catch (error) {
        this.onFailure(error, batch.length);
        return;
      } finally {
        batch.forEach((row) => this.inFlight.delete(row.id));
      }
      for (const { row, reason } of refused) {
        this.logger.error(`PostgreSQL refused spend-log row ${row.id} (${reason}); it is set aside, not retried`);
      }
      this.queue = this.queue.slice(batch.length);
      this.telemetry.spendLogQueueDepth.set(this.queue.length);
      this.telemetry.spendLogRowsWritten.inc(batch.length - refused.length);
      if (refused.length > 0) this.telemetry.spendLogRowsFailed.inc(refused.length);
      for (const row of batch) {
        if (this.unwritten.get(row.id) === row) this.unwritten.delete(row.id);
      }
      this.stats_.rowsWritten += batch.length - refused.length;
      this.stats_.rowsRejected += refused.length;
      this.stats_.lastFlushAt = Date.now();
      this.consecutiveFailures = 0;
      await this.applyDeletesThatRacedTheInsert(batch);
    }
  }

  /**
   * Writes a batch; resolves the rows PostgreSQL refused on their own. A row-level refusal
   * (SQLSTATE class 22 or 23) must not hold back the other rows: the batch is then written row by
   * row and only the refused rows are set aside. Any other failure (an outage, a missing table)
   * rejects, and the whole batch stays queued for a retry.
   */
  private async insertBatch(batch: StoredResponse[]): Promise<Array<{ row: StoredResponse; reason: string }>> {
    try {
      await this.repository.insertMany(batch);
      return [];
    } catch (error) {
      if (!isRowError(error)) throw error;
    }
    const refused: Array<{ row: StoredResponse; reason: string }> = [];
    for (const row of batch) {
      try {
        await this.repository.insertMany([row]);
      } catch (error) {
        if (!isRowError(error)) throw error;
        refused.push({ row, reason: describeDatabaseError(error) });
      }
    }
    return refused;
  }

  private async applyDeletesThatRacedTheInsert(batch: StoredResponse[]): Promise<void> {
    for (const row of batch) {
      const at = this.deletedInFlight.get(row.id);
      if (at === undefined) continue;
      this.deletedInFlight.delete(row.id);
      await this.repository.markDeleted(row.id, row.ownerHash, new Date(at)).catch((error: unknown) => {
        this.logger.error(`Could not apply the deletion of ${row.id}: ${String(error)}`);
      });
    }
  }

  private onFailure(error: unknown, batchSize: number): void {
    this.consecutiveFailures += 1;
    this.stats_.failedFlushes += 1;
    this.telemetry.spendLogRowsFailed.inc(batchSize);
    const message = describeDatabaseError(error);
    this.stats_.lastError = message;
    const delay = Math.min(500 * 2 ** (this.consecutiveFailures - 1), MAX_RETRY_DELAY_MS);
    this.retryAt = Date.now() + delay;
    this.logger.error(
      `Writing ${batchSize} spend-log rows failed (${message}); ${this.queue.length} rows kept, retrying in ${delay} ms`,
    );
    setTimeout(() => void this.flush(), delay).unref();
  }
}

/** PostgreSQL refused the data of a row (data exception or integrity violation), not the connection. */
function isRowError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = /Code: `([0-9A-Z]{5})`/.exec(message)?.[1] ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
