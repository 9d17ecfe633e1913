/**
 * Redis layout, all under REDIS_KEY_PREFIX with the session tag as hash tag, so one session
 * lives in one Cluster slot:
 *   <prefix>:{<tag>}:r2:<response id>  HASH  c = content JSON (input then output items),
 *                                            d = the rest of the response as JSON (see cached-response.ts),
 *                                            p = parent id, o = owner hash, s = session id
 *   <prefix>:{<tag>}:s                 ZSET  response ids scored by creation time (the per-session cap)
 * `r2` because the layout changed (content apart, so a chain walk parses only content): replicas
 * of the earlier version read `:r:` keys only, so the two never misread each other's entries.
 */
export class CacheKeys {
  constructor(readonly prefix: string) {}

  responsePrefix(tag: string): string {
    return `${this.prefix}:{${tag}}:r2:`;
  }

  response(tag: string, id: string): string {
    return `${this.responsePrefix(tag)}${id}`;
  }

  session(tag: string): string {
    return `${this.prefix}:{${tag}}:s`;
  }

  isResponse(key: string): boolean {
    return key.includes('}:r2:');
  }

  /** SCAN pattern of every key of the namespace. */
  get everything(): string {
    return `${this.prefix}:*`;
  }
}
