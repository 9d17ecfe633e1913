/**
 * The benchmark's scenarios, in the order its tables list them. Besides the service itself, variants of
 * it run as further gateway processes on the same Redis and PostgreSQL (see VARIANTS), each measured
 * with new conversations and warm chains: what one setting or runtime costs, in the same run.
 */
export const VARIANTS = {
  /** DURABLE_JOURNAL=false: what durability costs. */
  unjournaled: 'without its durable journal (DURABLE_JOURNAL=false)',
  /** Tracing on, exporting over OTLP/HTTP to a sink that only answers: what tracing costs. */
  traced: 'with OpenTelemetry tracing on (OTLP/HTTP to a local sink, every span sampled)',
  /** The same build on another Node binary (--compare-node=PATH): what the runtime changes. */
  'other-node': 'on another Node (--compare-node)',
} as const;
export type VariantName = keyof typeof VARIANTS;

const FIXED_RATE = [
  'direct-1',
  'floor-1',
  'nest-floor-1',
  'service-new',
  'unjournaled-new',
  'traced-new',
  'other-node-new',
  'direct-10',
  'floor-10',
  'nest-floor-10',
  'service-warm',
  'unjournaled-warm',
  'traced-warm',
  'other-node-warm',
  'service-cold',
] as const;
const STREAMING = ['direct-stream', 'floor-stream', 'nest-floor-stream', 'service-stream'] as const;
/** The I/O floor (io-floor.ts): what the work every stateful turn needs costs; measured at saturation only. */
const IO_FLOOR = ['io-floor-new', 'io-floor-warm'] as const;

export type ScenarioName = (typeof FIXED_RATE)[number] | (typeof STREAMING)[number] | (typeof IO_FLOOR)[number];

export const SCENARIOS: Record<'latency' | 'saturation' | 'streaming', readonly ScenarioName[]> = {
  latency: FIXED_RATE,
  // Every cold request needs a chain of its own, and a closed loop's count is not known in advance.
  saturation: [...FIXED_RATE.filter((name) => name !== 'service-cold'), ...IO_FLOOR],
  streaming: STREAMING,
};

/** Each I/O floor scenario listed after the Nest floor's with the same history. */
export const SCENARIO_ORDER: readonly string[] = [...FIXED_RATE, ...STREAMING].flatMap((name): string[] => {
  if (name === 'nest-floor-1') return [name, 'io-floor-new'];
  if (name === 'nest-floor-10') return [name, 'io-floor-warm'];
  return [name];
});
