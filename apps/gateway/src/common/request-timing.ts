/** Per-request timings the request log and the overhead metric need. */
export interface RequestTiming {
  /** When the request arrived (performance.now()). */
  startedAt: number;
  /** Time spent waiting on the upstream, including reading its whole answer. */
  upstreamMs: number;
  /**
   * Time spent waiting for PostgreSQL to read the history (for a slot, then for the query and its rows) or the
   * items the input refers to, and between deliberate looks again: not the service's own queue. The rest of a
   * cold turn (the Redis miss, the back-fill) is its own work; a conversation's history lookup counts whole.
   */
  databaseMs: number;
  /** Whether this request called the upstream at all. */
  calledUpstream: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    timing: RequestTiming;
  }
}

export function newRequestTiming(): RequestTiming {
  return { startedAt: performance.now(), upstreamMs: 0, databaseMs: 0, calledUpstream: false };
}

/**
 * Runs `work` (a wait on PostgreSQL, or a deliberate one) and adds the time it took, however it ended, to
 * `timing.databaseMs`: time admission control does not take for the service's own queue.
 */
export async function outsideOwnTime<T>(timing: RequestTiming | undefined, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    if (timing) timing.databaseMs += performance.now() - started;
  }
}
