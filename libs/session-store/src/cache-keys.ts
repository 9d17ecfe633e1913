/**
 * Redis layout, all under REDIS_KEY_PREFIX with the session tag as hash tag, so one session
 * lives in one Cluster slot:
 *   <prefix>:{<tag>}:r:<response id>   HASH  d = response JSON, p = parent id, o = owner hash
 *   <prefix>:{<tag>}:s                 ZSET  response ids scored by creation time (the per-session cap)
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

  /** SCAN pattern of every key of the namespace. */
  get everything(): string {
    return `${this.prefix}:*`;
  }
}
