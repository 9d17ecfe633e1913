import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

/** One kind of request: where it goes and what it sends (the body may differ per request). */
export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: (index: number) => string;
}

export interface LoadResult {
  /** Latency in microseconds, measured from when each request was due (open loop). */
  latency: hdr.Histogram;
  /** Streams only: time to the first body byte, in microseconds. */
  firstByte?: hdr.Histogram;
  /** Latency of the 2xx answers only (what admitted requests saw), in microseconds. */
  okLatency: hdr.Histogram;
  sent: number;
  ok: number;
  errors: number;
  /** Answers 503 or 429 (refused: overload, or a bound), counted in `errors` too. */
  refused: number;
  /** Refusals by the `error.code` of their OpenAI envelope (`server_overloaded`, `history_unavailable`, …). */
  refusedBy: Record<string, number>;
  /**
   * Open loop only: how late each request left the generator, in microseconds, against when it was due.
   * The generator shares the machine's cores: when it is starved, latency counted from the due time
   * includes this wait, which no server caused.
   */
  sendLag?: hdr.Histogram;
  seconds: number;
  /** CPU time the process in front (service, floor or mock) used during the run, where measured. */
  cpuSeconds?: number;
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

const pools = new Map<string, Pool>();

/** One keep-alive pool per origin, shared by every run so connection set-up is not measured. */
export function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 2048, keepAliveTimeout: 60_000, pipelining: 1 });
    pools.set(origin, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  await Promise.all([...pools.values()].map((pool) => pool.close()));
  pools.clear();
}

async function send(target: Target, index: number, firstByte?: (micros: number) => void, started = performance.now()) {
  const response = await poolFor(target.origin).request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body(index),
  });
  let first = true;
  const refusal = isRefusal(response.statusCode) ? ([] as Buffer[]) : undefined;
  for await (const chunk of response.body) {
    if (first && firstByte && (chunk as Buffer).length > 0) firstByte((performance.now() - started) * 1000);
    first = false;
    refusal?.push(chunk as Buffer);
  }
  return { status: response.statusCode, code: refusal ? errorCodeOf(Buffer.concat(refusal)) : undefined };
}

function isRefusal(status: number): boolean {
  return status === 503 || status === 429;
}

/** The `error.code` of an OpenAI error envelope, or `unknown`. */
function errorCodeOf(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Open-loop load at a fixed rate: request i is due at start + i/rate and its latency counts from
 * then, so a slow server cannot hide queueing by slowing the generator (no coordinated omission).
 */
export async function fixedRate(target: Target, rate: number, durationMs: number, stream = false): Promise<LoadResult> {
  const result = newResult(durationMs);
  if (stream) result.firstByte = newHistogram();
  const sendLag = newHistogram();
  result.sendLag = sendLag;
  const total = Math.round((rate * durationMs) / 1000);
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (result.sent < due) {
        const index = result.sent++;
        const dueAt = start + (index * 1000) / rate;
        sendLag.recordValue(Math.max(1, Math.round((performance.now() - dueAt) * 1000)));
        const request = send(target, index, (micros) => result.firstByte?.recordValue(Math.max(1, micros)), dueAt)
          .then((answer) => count(result, answer, Math.max(1, Math.round((performance.now() - dueAt) * 1000))))
          .catch(() => {
            result.errors += 1;
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      if (result.sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  return result;
}

/** Closed-loop saturation: `concurrency` clients send back to back for the duration. */
export async function saturate(target: Target, concurrency: number, durationMs: number): Promise<LoadResult> {
  const result = newResult(durationMs);
  const deadline = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const index = result.sent++;
      const started = performance.now();
      try {
        const answer = await send(target, index);
        count(result, answer, Math.max(1, Math.round((performance.now() - started) * 1000)));
      } catch {
        result.errors += 1;
      }
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  result.seconds = (performance.now() - began) / 1000;
  return result;
}

function newResult(durationMs: number): LoadResult {
  return {
    latency: newHistogram(),
    okLatency: newHistogram(),
    sent: 0,
    ok: 0,
    errors: 0,
    refused: 0,
    refusedBy: {},
    seconds: durationMs / 1000,
  };
}

function count(result: LoadResult, answer: { status: number; code?: string }, micros: number): void {
  result.latency.recordValue(micros);
  if (answer.status >= 200 && answer.status < 300) {
    result.ok += 1;
    result.okLatency.recordValue(micros);
    return;
  }
  result.errors += 1;
  if (answer.code !== undefined) {
    result.refused += 1;
    result.refusedBy[answer.code] = (result.refusedBy[answer.code] ?? 0) + 1;
  }
}

/** The items in random order (scenarios within a round, so machine drift hits each alike). */
export function shuffled<T>(items: T[]): T[] {
  return items
    .map((item) => ({ item, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

export function percentiles(histogram: hdr.Histogram): { p50: number; p95: number; p99: number } {
  return {
    p50: histogram.getValueAtPercentile(50),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
  };
}
