import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { describeDatabaseError } from '@app/database';
import { Telemetry } from '@app/telemetry';
import { Span } from '@opentelemetry/api';
import { RateLimitedLogger } from '@app/redis';
import { abandonDurableWrites, endDurableWrites, insertTraced, startBatchedDurableWrite } from './durable-write-spans';
import { ResponseJournal } from './response-journal';
import { ResponseRepository } from './response-repository';
import { insertOrSetAside, RefusedRow } from './row-inserter';
import { ConversationItem } from './response-items';
import { historyItems, isResolvable, referencesTo, StoredResponse } from './stored-response';

export interface SpendLogStats {
  queueDepth: number;
  rowsWritten: number;
  failedFlushes: number;
  /** Rows that can never be written (logged with their id): refused by PostgreSQL or not convertible to SQL. */
  rowsRejected: number;
  /** Spend-only rows (never a stored response) dropped because the queue was at twice its bound. */
  rowsDropped: number;
  lastFlushAt: number | null;
  lastError: string | null;
  /** The rows' serialized size, the second bound. */
  pendingBytes: number;
  /** Why new stored turns are refused now, or null when they are not. */
  atCapacity: string | null;
}

export interface EnqueueOptions {
  /** The row's serialized size, when the caller has it (else it is measured). */
  bytes?: number;
  /** Its entry in this replica's journal, deleted once the row is written. */
  journalId?: string | null;
}

interface QueuedRow {
  response: StoredResponse;
  bytes: number;
  journalId: string | null;
  /** When it was queued (Unix ms): the writer's lag is measured from here. */
  queuedAt: number;
  /** The traced turn's durable-write span, open until the row is in PostgreSQL. */
  span: Span | undefined;
}

const MAX_RETRY_DELAY_MS = 30_000;
const SHUTDOWN_FLUSH_DEADLINE_MS = 15_000;
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * The delayed writer: every response (stored or not, completed or failed) is queued and written to
 * PostgreSQL in batches every SPEND_LOG_FLUSH_INTERVAL_MS, or as soon as SPEND_LOG_BATCH_SIZE rows wait.
 * Inserts are idempotent; a failed batch stays queued and is retried with backoff; a row that can never
 * be written is set aside, so it cannot stall the others; the queue is flushed on shutdown. Until
 * written, rows are readable here (read-your-writes when Redis is down), and stored responses are also
 * in this replica's journal (durable if the process dies). The queue is bounded (SPEND_LOG_MAX_PENDING
 * rows, SPEND_LOG_MAX_PENDING_BYTES): at the bound `atCapacity` tells callers to refuse stored turns.
 */
@Injectable()
export class SpendLogWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SpendLog');
  private readonly dropLog = new RateLimitedLogger(this.logger, DROP_LOG_INTERVAL_MS);
  private queue: QueuedRow[] = [];
  private pendingBytes = 0;
  private readonly unwritten = new Map<string, QueuedRow>();
  private readonly inFlight = new Set<string>();
  private readonly deletedInFlight = new Map<string, number>();
  private flushing?: Promise<void>;
  private closing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private readonly stats_ = {
    rowsWritten: 0,
    failedFlushes: 0,
    rowsRejected: 0,
    rowsDropped: 0,
    lastFlushAt: null as number | null,
    lastError: null as string | null,
  };

  constructor(
    private readonly repository: ResponseRepository,
    private readonly config: AppConfig,
    private readonly telemetry: Telemetry,
    private readonly journal: ResponseJournal,
  ) {
    telemetry.gaugeFrom(
      'rsc_spend_log_oldest_pending_seconds',
      'Age of the oldest row waiting for PostgreSQL (0 when none): the writer lag',
      () => (this.queue[0] ? (Date.now() - this.queue[0].queuedAt) / 1000 : 0),
    );
    telemetry.gaugeFrom(
      'rsc_journal_pending_entries',
      "Rows this replica's durable journal holds for PostgreSQL (unwritten, acknowledged)",
      () => this.queue.reduce((count, row) => count + (row.journalId === null ? 0 : 1), 0),
    );
    // Its last flush needs PostgreSQL and Redis (journal deletions): both wait for it before closing.
    repository.drainBeforeDisconnect(() => this.onApplicationShutdown());
    journal.drainBeforeQuit(() => this.onApplicationShutdown());
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
    const deadline = Date.now() + SHUTDOWN_FLUSH_DEADLINE_MS;
    const untilDeadline = () =>
      new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
    // A flush in flight (and its raced deletions) finishes first; a hung PostgreSQL cannot hold the exit.
    await Promise.race([this.flushing, untilDeadline()]);
    while (this.queue.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await Promise.race([this.flush(), untilDeadline()]);
      if (this.queue.length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (this.queue.length > 0) {
      abandonDurableWrites(this.queue);
      const ids = this.queue.map(({ response }) => response.id).join(', ');
      const journaled = this.queue.filter(({ journalId }) => journalId !== null).length;
      this.logger.error(
        `Shutdown: ${this.queue.length} spend-log rows could not be written (${journaled} are kept in the journal ` +
          `for another replica to recover): ${ids}`,
      );
    }
    await this.journal.retire(this.queue.length === 0);
  }

  /**
   * Queues a row. Resolves false only for a row that is not a stored response when the queue is at
   * twice its bound (memory stays bounded; stored responses are refused before they exist instead).
   */
  enqueue(response: StoredResponse, options: EnqueueOptions = {}): boolean {
    const bytes = options.bytes ?? serializedSize(response);
    if (!isResolvable(response) && this.beyondHardLimit()) {
      this.stats_.rowsDropped += 1;
      this.dropLog.warn(`Spend-log queue is at twice its bound: row ${response.id} (${response.status}) is dropped`);
      return false;
    }
    const queued: QueuedRow = {
      response,
      bytes,
      journalId: options.journalId ?? null,
      queuedAt: Date.now(),
      span: startBatchedDurableWrite(),
    };
    this.queue.push(queued);
    this.pendingBytes += bytes;
    this.unwritten.set(response.id, queued);
    this.telemetry.spendLogQueueDepth.set(this.queue.length);
    if (this.closing) {
      // A request cut off by the shutdown finishing late: try to write it before the disconnect.
      this.logger.warn(`Spend-log row ${response.id} arrived during shutdown; writing it now`);
      void this.flush();
    } else if (this.queue.length >= this.config.spendLogBatchSize) {
      void this.flush();
    }
    return true;
  }

  /** The journal entry of a queued row arrived after the row; deleted at once if the row is written. */
  attachJournal(id: string, journalId: string): void {
    const queued = this.unwritten.get(id);
    if (queued) queued.journalId = journalId;
    else this.journal.remove([journalId]);
  }

  /** Why stored turns must be refused now (the queue is at its bound), or null. */
  get atCapacity(): string | null {
    if (this.queue.length >= this.config.spendLogMaxPending) {
      return `${this.queue.length} spend-log rows wait for PostgreSQL (SPEND_LOG_MAX_PENDING=${this.config.spendLogMaxPending})`;
    }
    if (this.pendingBytes >= this.config.spendLogMaxPendingBytes) {
      return `${this.pendingBytes} bytes of spend-log rows wait for PostgreSQL (SPEND_LOG_MAX_PENDING_BYTES=${this.config.spendLogMaxPendingBytes})`;
    }
    return null;
  }

  /** Writes the queue now rather than at the next interval (unless PostgreSQL is being waited out). */
  flushSoon(): void {
    if (this.queue.length > 0 && !this.closing) void this.flush();
  }

  /** PostgreSQL answered elsewhere: a batch waiting out its backoff is retried now. */
  retrySoon(): void {
    if (this.queue.length === 0 || this.retryAt <= Date.now()) return;
    this.retryAt = 0;
    void this.flush();
  }

  private beyondHardLimit(): boolean {
    return (
      this.queue.length >= 2 * this.config.spendLogMaxPending ||
      this.pendingBytes >= 2 * this.config.spendLogMaxPendingBytes
    );
  }

  /** A queued or in-flight row, not yet confirmed in PostgreSQL. */
  find(id: string): StoredResponse | undefined {
    return this.unwritten.get(id)?.response;
  }

  /** Items of this owner's unwritten stored responses by id (a scan of the queue: Redis is the usual place). */
  findItems(ids: string[], ownerHash: string): Map<string, ConversationItem> {
    const found = new Map<string, ConversationItem>();
    for (const { response } of this.unwritten.values()) {
      if (response.ownerHash !== ownerHash || !isResolvable(response)) continue;
      for (const item of historyItems(response)) {
        for (const id of referencesTo(item)) if (ids.includes(id)) found.set(id, item);
      }
    }
    return found;
  }

  /** Applies a DELETE to a row that is not written yet (or is being written right now). */
  markDeleted(id: string, at: number): void {
    const row = this.unwritten.get(id)?.response;
    if (!row) return;
    row.deletedAt = at;
    if (this.inFlight.has(id)) this.deletedInFlight.set(id, at);
  }

  stats(): SpendLogStats {
    return {
      queueDepth: this.queue.length,
      ...this.stats_,
      pendingBytes: this.pendingBytes,
      atCapacity: this.atCapacity,
    };
  }

  /** Writes every queued row (in batches); a failure keeps the rows queued for a later retry. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && Date.now() >= this.retryAt) {
      const batch = this.queue.slice(0, this.config.spendLogBatchSize);
      const rows = batch.map(({ response }) => response);
      rows.forEach((row) => this.inFlight.add(row.id));
      let refused: RefusedRow[];
      try {
        ({ refused } = await insertTraced(batch, () => insertOrSetAside(this.repository, rows)));
      } catch (error) {
        this.onFailure(error, batch.length);
        return;
      } finally {
        rows.forEach((row) => this.inFlight.delete(row.id));
      }
      endDurableWrites(batch, refused);
      for (const { row, reason } of refused) {
        this.logger.error(`Spend-log row ${row.id} cannot be written (${reason}); it is set aside, not retried`);
      }
      this.queue = this.queue.slice(batch.length);
      this.pendingBytes -= batch.reduce((sum, { bytes }) => sum + bytes, 0);
      this.journal.remove(batch.flatMap(({ journalId }) => (journalId === null ? [] : [journalId])));
      this.journal.trimBefore(this.queue.map(({ journalId }) => journalId));
      this.telemetry.spendLogQueueDepth.set(this.queue.length);
      this.telemetry.spendLogRowsWritten.inc(batch.length - refused.length);
      if (refused.length > 0) this.telemetry.spendLogRowsFailed.inc(refused.length);
      for (const queued of batch) {
        if (this.unwritten.get(queued.response.id) === queued) this.unwritten.delete(queued.response.id);
      }
      this.stats_.rowsWritten += batch.length - refused.length;
      this.stats_.rowsRejected += refused.length;
      this.stats_.lastFlushAt = Date.now();
      this.consecutiveFailures = 0;
      await this.applyDeletesThatRacedTheInsert(rows);
    }
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

/** The row's JSON length (what it costs in the journal, and roughly in memory); 0 if it cannot be serialized. */
function serializedSize(response: StoredResponse): number {
  try {
    return JSON.stringify(response).length;
  } catch {
    return 0;
  }
}
