export interface MockLlmOptions {
  /** Delay before the first byte of every answer. */
  latencyMs: number;
  /** Delay between streamed chunks. */
  chunkDelayMs: number;
  /** Every Nth request fails with `failStatus` (0: never). */
  failEvery: number;
  failStatus: number;
  /** How many received requests are kept for inspection at GET /__mock/requests. */
  recordLimit: number;
}

export const DEFAULT_MOCK_LLM_OPTIONS: MockLlmOptions = {
  latencyMs: 0,
  chunkDelayMs: 0,
  failEvery: 0,
  failStatus: 500,
  recordLimit: 1000,
};

export function mockLlmOptionsFromEnv(env: Record<string, string | undefined>): MockLlmOptions {
  return {
    latencyMs: nonNegative(env, 'MOCK_LLM_LATENCY_MS', DEFAULT_MOCK_LLM_OPTIONS.latencyMs),
    chunkDelayMs: nonNegative(env, 'MOCK_LLM_CHUNK_DELAY_MS', DEFAULT_MOCK_LLM_OPTIONS.chunkDelayMs),
    failEvery: nonNegative(env, 'MOCK_LLM_FAIL_EVERY', DEFAULT_MOCK_LLM_OPTIONS.failEvery),
    failStatus: nonNegative(env, 'MOCK_LLM_FAIL_STATUS', DEFAULT_MOCK_LLM_OPTIONS.failStatus),
    recordLimit: nonNegative(env, 'MOCK_LLM_RECORD_LIMIT', DEFAULT_MOCK_LLM_OPTIONS.recordLimit),
  };
}

function nonNegative(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}
