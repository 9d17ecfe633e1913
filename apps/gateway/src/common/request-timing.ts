/** Per-request timings the request log and the overhead metric need. */
export interface RequestTiming {
  /** When the request arrived (performance.now()). */
  startedAt: number;
  /** Time spent waiting on the upstream, including reading its whole answer. */
  upstreamMs: number;
  /** Time spent reading the history from PostgreSQL (a dependency's time, not the service's own queue). */
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
