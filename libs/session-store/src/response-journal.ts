import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import type { Result } from 'ioredis';
import { CacheInspector } from './cache-inspector';
import { CacheKeys } from './cache-keys';

/**
 * Lua: deletes a journal (KEYS[1]) and its heartbeat (KEYS[2]) only when nothing is left in it and,
 * when ARGV[1] is 'orphan' (a recovery), only while its replica is still gone.
 */
const RETIRE_SCRIPT = `
if ARGV[1] == 'orphan' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('XLEN', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;
/** Entries older than this with no queued row are leftovers (an append that timed out but landed). */
const LEFTOVER_AGE_MS = 60_000;

/**
 * The durable journal of this replica: every response it has recorded and the spend-log writer has not
 * written to PostgreSQL yet, as entries of a Redis Stream of its own (no TTL, never trimmed). An entry
 * is appended before the client sees the response complete and deleted once its row is written. A
 * heartbeat key says the replica is alive; once it lapses (a crash, an OOM kill), any replica recovers
 * the stream into PostgreSQL (JournalRecovery). The heartbeat goes on until the writer's last flush
 * has retired the journal. Redis must keep it: see `evictionWarning`.
 */
@Injectable()
export class ResponseJournal implements OnModuleInit {
  /**
   * Where this process serves: host name and port. Only one process can listen there at a time, so a
   * journal of the same seat belongs to a predecessor that has died (a restarted container keeps its
   * pod's host name), and can be recovered at once instead of after its heartbeat lapses.
   */
  readonly seat: string;
  /** This process's replica id: its seat, pid and a random part (a restarted process gets a new one). */
  readonly replica: string;
  readonly keys: CacheKeys;
  private readonly logger = new Logger('Journal');
  private readonly heartbeatMs: number;
  private timer?: NodeJS.Timeout;
  private policyChecked = false;
  /** Entries whose deletion failed (Redis unavailable): retried with the next deletion. */
  private leftovers: string[] = [];
  private counters = { appended: 0, removed: 0, appendFailures: 0 };
  /** After `retire`: nothing is appended any more (it would recreate a journal no one recovers). */
  private retired = false;
  evictionWarning: string | null = null;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {
    this.keys = new CacheKeys(config.redisKeyPrefix);
    // The whole name (the end if it is very long): pods of one ReplicaSet differ only in their last characters.
    const host = hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(-120);
    this.seat = `${host}:${config.port}`;
    this.replica = `${this.seat}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.heartbeatMs = Math.max(200, Math.floor(config.journalOrphanAfterMs / 5));
    redis.client.defineCommand('rscRetireJournal', { numberOfKeys: 2, lua: RETIRE_SCRIPT });
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    void this.heartbeat();
    this.redis.client.on('ready', () => void this.heartbeat());
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** See RedisService.drainBeforeQuit: the writer's last flush deletes entries and may retire the journal. */
  drainBeforeQuit(drain: () => Promise<void>): void {
    this.redis.drainBeforeQuit(drain);
  }

  /** Whether `replica` served from this process's seat before it (a fixed port; 0 means any). */
  isPredecessor(replica: string): boolean {
    return this.config.port !== 0 && replica !== this.replica && replica.startsWith(`${this.seat}-`);
  }

  /** False when DURABLE_JOURNAL=false: nothing is appended, and nothing needs to be. */
  get enabled(): boolean {
    return this.config.durableJournal;
  }

  /** Appends one response (its JSON); resolves the entry id, or null when Redis could not take it. */
  async append(json: string): Promise<string | null> {
    if (!this.enabled || this.retired) return null;
    const outcome = await this.redis.attempt('journal', (client) =>
      client.xadd(this.keys.journalEntries(this.replica), '*', 'r', json),
    );
    if (outcome.ok && outcome.value) {
      this.counters.appended += 1;
      return outcome.value;
    }
    this.counters.appendFailures += 1;
    return null;
  }

  /** Deletes entries whose rows are written. Never waits and never throws; failures are retried later. */
  remove(entryIds: string[]): void {
    const ids = this.leftovers.length > 0 ? this.leftovers.concat(entryIds) : entryIds;
    this.leftovers = [];
    if (ids.length === 0) return;
    void this.redis
      .attempt('journal', (client) => client.xdel(this.keys.journalEntries(this.replica), ...ids))
      .then((outcome) => {
        if (outcome.ok) this.counters.removed += ids.length;
        // Bounded: entries left in the stream are harmless (their rows are written; a recovery skips them).
        else this.leftovers = ids.concat(this.leftovers).slice(0, 100_000);
      });
  }

  /**
   * Trims entries older than every queued row's (`queuedIds`, null for rows without an entry yet) and
   * than a minute: leftovers of appends that timed out on our side but landed, which nothing else deletes.
   */
  trimBefore(queuedIds: Array<string | null>): void {
    if (!this.enabled || this.retired) return;
    let oldest = `${Date.now() - LEFTOVER_AGE_MS}-0`;
    for (const id of queuedIds) if (id !== null && olderEntry(id, oldest)) oldest = id;
    void this.redis.attempt('journal', (client) =>
      client.xtrim(this.keys.journalEntries(this.replica), 'MINID', oldest),
    );
  }

  /**
   * After the writer's last flush: with nothing left unwritten, the journal is deleted; otherwise it is
   * left for another replica to recover once the heartbeat lapses.
   */
  async retire(everythingWritten: boolean): Promise<void> {
    this.retired = true;
    clearInterval(this.timer);
    if (!this.enabled || !this.redis.isReady) return;
    if (this.leftovers.length > 0) {
      const ids = this.leftovers.splice(0);
      await this.redis.attempt('journal', (client) => client.xdel(this.keys.journalEntries(this.replica), ...ids));
    }
    if (!everythingWritten) {
      this.logger.warn(`Journal ${this.replica} keeps unwritten responses; another replica will recover them`);
      return;
    }
    await this.retireIfEmpty(this.replica, 'own');
  }

  /**
   * Deletes a journal that holds nothing (and, for an `orphan`, only while its replica is still gone),
   * then its registry entry. Resolves whether it was retired.
   */
  async retireIfEmpty(replica: string, kind: 'own' | 'orphan'): Promise<boolean> {
    const retired = await this.redis.attempt('journal', (client) =>
      client.rscRetireJournal(this.keys.journalEntries(replica), this.keys.journalAlive(replica), kind),
    );
    if (!retired.ok || retired.value !== 1) return false;
    await this.redis.attempt('journal', (client) => client.srem(this.keys.journals, replica));
    return true;
  }

  stats(): { replica: string; appended: number; removed: number; append_failures: number } {
    const { appended, removed, appendFailures } = this.counters;
    return { replica: this.replica, appended, removed, append_failures: appendFailures };
  }

  private async heartbeat(): Promise<void> {
    if (!this.redis.isReady) return;
    const alive = this.keys.journalAlive(this.replica);
    // Two commands, not a transaction: the keys live in different Cluster slots. Made even while the
    // circuit is open: a replica that merely skips a sick cache is alive, its journal is not an orphan.
    await this.redis.attempt(
      'journal',
      (client) =>
        Promise.all([
          client.set(alive, String(Date.now()), 'PX', this.config.journalOrphanAfterMs),
          client.sadd(this.keys.journals, this.replica),
        ]),
      { bypassCircuit: true },
    );
    if (!this.policyChecked) await this.checkEvictionPolicy();
  }

  /** Under an allkeys-* policy Redis may evict the journal when memory runs out: say so loudly. */
  private async checkEvictionPolicy(): Promise<void> {
    const info = await this.redis.attempt('info', (client) => new CacheInspector(client, this.keys).info());
    if (!info.ok) return;
    this.policyChecked = true;
    const policy = info.value.maxmemory_policy ?? 'unknown';
    if (policy.startsWith('allkeys')) {
      this.evictionWarning =
        `maxmemory-policy is ${policy}: Redis may evict the durable journal under memory pressure; ` +
        'use noeviction or a volatile-* policy';
      this.logger.warn(this.evictionWarning);
    }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rscRetireJournal(entries: string, alive: string, kind: 'own' | 'orphan'): Result<number, Context>;
  }
}

/** Whether stream entry id `a` (`<ms>-<seq>`) is older than `b`. */
function olderEntry(a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs < bMs || (aMs === bMs && aSeq < bSeq);
}
