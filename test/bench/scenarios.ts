/**
 * The benchmark's scenarios, in the order its tables list them. `unjournaled-*` are the service with
 * DURABLE_JOURNAL=false (a second instance, same Redis and PostgreSQL): what durability costs.
 */
const FIXED_RATE = [
  'direct-1',
  'floor-1',
  'nest-floor-1',
  'service-new',
  'unjournaled-new',
  'direct-10',
  'floor-10',
  'nest-floor-10',
  'service-warm',
  'unjournaled-warm',
  'service-cold',
] as const;
const STREAMING = ['direct-stream', 'floor-stream', 'nest-floor-stream', 'service-stream'] as const;

export type ScenarioName = (typeof FIXED_RATE)[number] | (typeof STREAMING)[number];

export const SCENARIOS: Record<'latency' | 'saturation' | 'streaming', readonly ScenarioName[]> = {
  latency: FIXED_RATE,
  // Every cold request needs a chain of its own, and a closed loop's count is not known in advance.
  saturation: FIXED_RATE.filter((name) => name !== 'service-cold'),
  streaming: STREAMING,
};

export const SCENARIO_ORDER: readonly string[] = [...FIXED_RATE, ...STREAMING];
