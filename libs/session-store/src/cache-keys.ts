/**
 * Redis layout, all under REDIS_KEY_PREFIX with the session tag as hash tag, so one session
 * lives in one Cluster slot:
 *   <prefix>:{<tag>}:r:<response id>   HASH  d = response JSON, c = its history items JSON (input then
 *                                            output, also inside d: a chain walk parses only these),
 *                                            p = parent id, o = owner hash, s = session id
 *   <prefix>:{<tag>}:s                 ZSET  response ids scored by creation time (the per-session cap)
 *   <prefix>:{<tag>}:i                 HASH  item id -> response id, for item_reference (ids carrying the tag)
 *   <prefix>:{<tag>}:c:<version>       STRING  a conversation's items at that version (JSON array); the
 *                                            tag is the conversation's (its id is its session id)
 * Entries without c and s (written by versions before them) are still read, from d.
 *
 * The durable journal (see ResponseJournal), one per running replica, hash-tagged by replica:
 *   <prefix>:journals                    SET     ids of the replicas that have a journal
 *   <prefix>:{j:<replica>}:entries       STREAM  unwritten responses (field r = response JSON); no TTL
 *   <prefix>:{j:<replica>}:alive         STRING  the replica's heartbeat (expires after JOURNAL_ORPHAN_AFTER_MS)
 *   <prefix>:{j:<replica>}:claim         STRING  held by the replica recovering an orphaned journal
 */
export class CacheKeys {
  constructor(readonly prefix: string) {}

  responsePrefix(tag: string): string {
    return `${this.prefix}:{${tag}}:r:`;
  }

  response(tag: string, id: string): string {
    return `${this.responsePrefix(tag)}${id}`;
  }

  session(tag: string): string {
    return `${this.prefix}:{${tag}}:s`;
  }

  /** The session's item index: item id → id of the response holding it (items whose id carries the tag). */
  items(tag: string): string {
    return `${this.prefix}:{${tag}}:i`;
  }

  /** A copy of a conversation's items at one version. */
  conversation(tag: string, version: number): string {
    return `${this.prefix}:{${tag}}:c:${version}`;
  }

  /** SCAN pattern of one session's keys. */
  sessionPattern(tag: string): string {
    return `${this.prefix}:{${tag}}:*`;
  }

  get journals(): string {
    return `${this.prefix}:journals`;
  }

  journalEntries(replica: string): string {
    return `${this.prefix}:{j:${replica}}:entries`;
  }

  journalAlive(replica: string): string {
    return `${this.prefix}:{j:${replica}}:alive`;
  }

  journalClaim(replica: string): string {
    return `${this.prefix}:{j:${replica}}:claim`;
  }

  /** Whether a key belongs to the durable journal (never evicted as cache). */
  isJournal(key: string): boolean {
    return key === this.journals || key.startsWith(`${this.prefix}:{j:`);
  }

  /** SCAN pattern of every key of the namespace. */
  get everything(): string {
    return `${this.prefix}:*`;
  }
}
