import { createHash, randomFillSync } from 'node:crypto';

/** Random bytes drawn from a pooled buffer: one system call per 4 KiB instead of one per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/**
 * Response ids carry their session's 16-hex key tag: `resp_<tag><32 hex>`. The tag is the Redis
 * hash tag of the session's keys, so a chain is located from the id alone in one round trip.
 */
const RESPONSE_ID = /^resp_([0-9a-f]{16})[0-9a-f]{32}$/;

/**
 * A session belongs to its owner: the tag (and so the keys, the per-session cap and the Cluster slot)
 * derives from owner and session id, so two tenants using the same session id never share a session.
 * `ownerHash` null gives the tag versions before per-owner tags wrote (session id alone), which
 * SESSION_TAG_SCOPE=session keeps writing for the first step of a rolling upgrade.
 */
export function sessionTag(ownerHash: string | null, sessionId: string): string {
  const scoped = ownerHash === null ? sessionId : `${ownerHash}\n${sessionId}`;
  return createHash('sha256').update(scoped).digest('hex').slice(0, 16);
}

export function newResponseId(ownerHash: string | null, sessionId: string): string {
  return `resp_${sessionTag(ownerHash, sessionId)}${randomHex(16)}`;
}

/** The session tag of a response id, or undefined when the id is not one of ours. */
export function tagOfResponseId(id: string): string | undefined {
  return RESPONSE_ID.exec(id)?.[1];
}

export function newSessionId(): string {
  return `sess_${randomHex(16)}`;
}

/** `conv_<48 hex>`. */
export function newConversationId(): string {
  return `conv_${randomHex(24)}`;
}

/** Whether an id can be one of our conversations (others are "not found" without a lookup). */
export function isConversationId(id: string): boolean {
  return /^conv_[0-9a-f]{48}$/.test(id);
}

/** Our own kinds; items relayed from a `responses` upstream keep the prefix of their kind (`ws`, `fs`, …). */
export type ItemPrefix = 'msg' | 'fc' | 'fco' | 'rs' | (string & {});

/**
 * An item id: `<prefix>_<48 hex>`. Items a response produces carry its session's tag in front
 * (`<prefix>_<tag><32 hex>`), so an `item_reference` to them is found in one Redis round trip.
 */
export function newItemId(prefix: ItemPrefix, tag?: string): string {
  return tag === undefined ? `${prefix}_${randomHex(24)}` : `${prefix}_${tag}${randomHex(16)}`;
}

const ITEM_ID = /^[a-z]+_([0-9a-f]{16})[0-9a-f]{32}$/;

/** The session tag an item id may carry (ids of other origins just miss in that session's index). */
export function tagOfItemId(id: string): string | undefined {
  return ITEM_ID.exec(id)?.[1];
}

/** Owner of a response: SHA-256 of the caller's bearer key (raw keys are never stored). */
export function ownerHashOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}
