import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { describeDatabaseError } from '@app/database';
import { RedisService } from '@app/redis';
import { ResponseJournal } from './response-journal';
import { ResponseRepository } from './response-repository';
import { insertOrSetAside } from './row-inserter';
import { StoredResponse } from './stored-response';

const ENTRIES_PER_BATCH = 200;
/** How long a claim on an orphaned journal holds; renewed with every batch. */
const CLAIM_MS = 60_000;

/**
 * Recovers the journals of replicas that died (SIGKILL, OOM, a lost node): every few seconds, any
 * journal whose heartbeat has lapsed (or, at once, one of a predecessor on this replica's host and
 * port: a restarted process) is claimed by one replica, its entries are written to PostgreSQL
 * (idempotently: rows already written are skipped) and deleted, and the journal is retired. A
 * recovery that PostgreSQL interrupts is resumed by the next sweep.
 */
@Injectable()
export class JournalRecovery implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Journal');
  private readonly sweepMs: number;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private recovered = 0;

  constructor(
    private readonly redis: RedisService,
    private readonly journal: ResponseJournal,
    private readonly repository: ResponseRepository,
    config: AppConfig,
  ) {
    this.sweepMs = Math.max(200, Math.floor(config.journalOrphanAfterMs / 3));
  }

  onModuleInit(): void {
    // At once when Redis is (again) reachable: a restarted replica recovers its predecessor's journal.
    this.redis.client.on('ready', () => void this.sweep());
    void this.sweep(); // Redis may be connected already (its module starts first)
    this.timer = setInterval(() => void this.sweep(), this.sweepMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  stats(): { recovered_responses: number } {
    return { recovered_responses: this.recovered };
  }

  /** Recovers every orphaned journal it can claim now. */
  sweep(): Promise<void> {
    this.sweeping ??= this.recoverOrphans().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async recoverOrphans(): Promise<void> {
    if (!this.redis.isReady) return;
    const keys = this.journal.keys;
    const replicas = await this.redis.attempt('journal', (client) => client.smembers(keys.journals));
    if (!replicas.ok) return;
    for (const replica of replicas.value) {
      if (replica === this.journal.replica) continue;
      // A predecessor on this seat is gone, whatever its heartbeat still says; others once it lapses.
      if (!this.journal.isPredecessor(replica)) {
        const alive = await this.redis.attempt('journal', (client) => client.exists(keys.journalAlive(replica)));
        if (!alive.ok || alive.value === 1) continue;
      }
      const claim = await this.redis.attempt('journal', (client) =>
        client.set(keys.journalClaim(replica), this.journal.replica, 'PX', CLAIM_MS, 'NX'),
      );
      if (!claim.ok || claim.value !== 'OK') continue;
      try {
        await this.recover(replica);
      } catch (error) {
        this.logger.error(
          `Recovering the journal of ${replica} stopped (${describeDatabaseError(error)}); it is resumed later`,
        );
      } finally {
        await this.redis.attempt('journal', (client) => client.del(keys.journalClaim(replica)));
      }
    }
  }

  private async recover(replica: string): Promise<void> {
    const keys = this.journal.keys;
    const stream = keys.journalEntries(replica);
    let written = 0;
    for (;;) {
      const read = await this.redis.attempt('journal', (client) =>
        client.xrange(stream, '-', '+', 'COUNT', ENTRIES_PER_BATCH),
      );
      if (!read.ok) return;
      if (read.value.length === 0) break;
      const rows: StoredResponse[] = [];
      for (const [entryId, fields] of read.value) {
        const row = parseEntry(fields);
        if (row) rows.push(row);
        else this.logger.error(`Journal entry ${entryId} of ${replica} is not a response; it is dropped`);
      }
      const { inserted, refused } = await insertOrSetAside(this.repository, rows); // throws while PostgreSQL is down
      for (const { row, reason } of refused) {
        this.logger.error(`Recovered response ${row.id} cannot be written (${reason}); it is set aside`);
      }
      written += inserted;
      this.recovered += inserted;
      const ids = read.value.map(([entryId]) => entryId);
      const deleted = await this.redis.attempt('journal', (client) =>
        client
          .pipeline()
          .xdel(stream, ...ids)
          .pexpire(keys.journalClaim(replica), CLAIM_MS)
          .exec(),
      );
      if (!deleted.ok) return;
    }
    // Retired only if still empty and still orphaned (a replica that was merely cut off re-registers).
    await this.journal.retireIfEmpty(replica, 'orphan');
    const message = `Recovered the journal of ${replica}: ${written} responses were missing from PostgreSQL`;
    if (written > 0) this.logger.warn(message);
    else this.logger.log(message);
  }
}

function parseEntry(fields: string[]): StoredResponse | null {
  const index = fields.indexOf('r');
  if (index === -1 || index % 2 !== 0) return null;
  try {
    const row = JSON.parse(fields[index + 1] ?? '') as StoredResponse;
    return typeof row?.id === 'string' && typeof row.ownerHash === 'string' ? row : null;
  } catch {
    return null;
  }
}
