/** Per-request timings the request log and the overhead metric need. */
export interface RequestTiming {
  /** Time spent waiting on the upstream, including reading its whole answer. */
  upstreamMs: number;
  /** Whether this request called the upstream at all. */
  calledUpstream: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    timing: RequestTiming;
  }
}

export function newRequestTiming(): RequestTiming {
  return { upstreamMs: 0, calledUpstream: false };
}
