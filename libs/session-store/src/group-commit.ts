import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { describeDatabaseError } from '@app/database';
import { RateLimitedLogger } from '@app/redis';
import { ResponseRepository } from './response-repository';
import { insertOrSetAside } from './row-inserter';
import { StoredResponse } from './stored-response';

/** A write that PostgreSQL does not confirm within this long counts as failed. */
const WRITE_TIMEOUT_MS = 5_000;
const FAILURE_LOG_INTERVAL_MS = 60_000;

interface Waiting {
  row: StoredResponse;
  done: (written: boolean) => void;
}

/**
 * Writes rows to PostgreSQL now, for callers that must not answer before a row is durable (the cache
 * could not take a stored response; a DELETE of a row not written yet). Requests that arrive while an
 * INSERT runs share the next one (group commit), so concurrent turns cost one round trip, not one each.
 */
@Injectable()
export class GroupCommit {
  private readonly logger = new Logger('SpendLog');
  private readonly failureLog = new RateLimitedLogger(this.logger, FAILURE_LOG_INTERVAL_MS);
  private waiting: Waiting[] = [];
  private running = false;
  private written = 0;

  constructor(
    private readonly repository: ResponseRepository,
    private readonly config: AppConfig,
  ) {}

  /** Resolves true once the row is in PostgreSQL, false when it could not be written now. */
  write(row: StoredResponse): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (written: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(written);
      };
      const waiting: Waiting = { row, done: finish };
      // Not written in time: not written at all if it is still waiting (an INSERT in flight cannot be recalled).
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((other) => other !== waiting);
        finish(false);
      }, WRITE_TIMEOUT_MS).unref();
      this.waiting.push(waiting);
      if (!this.running) void this.run();
    });
  }

  stats(): { immediate_writes: number } {
    return { immediate_writes: this.written };
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.config.spendLogBatchSize);
      try {
        const { refused } = await insertOrSetAside(
          this.repository,
          group.map(({ row }) => row),
        );
        for (const { row, reason } of refused)
          this.logger.error(`PostgreSQL cannot take response ${row.id} (${reason})`);
        const refusedRows = new Set(refused.map(({ row }) => row));
        for (const { row, done } of group) done(!refusedRows.has(row));
        this.written += group.length - refusedRows.size;
      } catch (error) {
        this.failureLog.warn(`Writing ${group.length} responses at once failed: ${describeDatabaseError(error)}`);
        for (const { done } of group) done(false);
      }
    }
    this.running = false;
  }
}
