import { LoadResult, percentiles } from './load';
import { ChainResolution, DatabaseFallback, WriterThroughput } from './micro';
import { DepthRun, TURN_BYTES } from './depth';
import { SCENARIO_ORDER, VariantName, VARIANTS } from './scenarios';

/** What `--rss` measures of a gateway of its own holding streams open (bench.ts, rssWithOpenStreams). */
export interface OpenStreamsRss {
  idle_bytes: number;
  open_streams: number;
  open_streams_bytes: number;
  /** Of open_streams_bytes, pages of files (mostly the node binary's): shared between processes. */
  open_streams_file_bytes: number;
  /** Once the open streams had been read to their end: what the process keeps after such a burst. */
  finished_streams: number;
  finished_bytes: number;
  /** Openings refused (admission control, a bound) and retried after their Retry-After. */
  refused_then_retried: number;
}

export interface BenchInput {
  quick: boolean;
  plan: Record<string, unknown>;
  machine: { cpu: string; cores: number; memory_gib: number; node: string };
  /** The variants that ran, with what sets each apart (e.g. the other Node's version). */
  variants: Partial<Record<VariantName, string>>;
  latency: Record<string, Record<string, LoadResult>>;
  saturation: Record<string, LoadResult>;
  /** The same segments round by round (CPU ratios per round show the spread of the pooled one). */
  saturationRounds: Array<Record<string, LoadResult>>;
  /** Open loop at twice the service's capacity (per scenario group), and the rate each ran at. */
  overload: Record<string, LoadResult>;
  overloadRates: Record<string, number>;
  streaming: Record<string, LoadResult>;
  /** Growth with history (empty when not run), at `depthRate` req/s. */
  depth: DepthRun[];
  depthRate: number;
  rss: OpenStreamsRss & {
    after_load_bytes: number;
    /** Streams continuing one long conversation, on a gateway of their own. */
    long_history: {
      streams: number;
      history_kib: number;
      idle_bytes: number;
      open_streams_bytes: number;
      finished_bytes: number;
      kib_per_stream: number;
    };
  };
  micro: { chain_resolution: ChainResolution[]; database_fallback: DatabaseFallback[]; writer: WriterThroughput };
}

/** The service's saturation scenarios, the Nest floor with the same payload upstream, and what they are. */
const CPU_AGAINST_NEST_FLOOR = [
  ['service-new', 'nest-floor-1', 'new conversations'],
  ['service-warm', 'nest-floor-10', '10-turn warm chains'],
] as const;

/** Which direct measurement each scenario's added latency is taken against (same payload). */
const BASELINE: Record<string, string> = {
  'floor-1': 'direct-1',
  'nest-floor-1': 'direct-1',
  'service-new': 'direct-1',
  'floor-10': 'direct-10',
  'nest-floor-10': 'direct-10',
  'io-floor-new': 'direct-1',
  'io-floor-warm': 'direct-10',
  'service-warm': 'direct-10',
  'service-cold': 'direct-10',
  'floor-stream': 'direct-stream',
  'nest-floor-stream': 'direct-stream',
  'service-stream': 'direct-stream',
  ...variantsAgainst('direct-1', 'direct-10'),
};

/** `<variant>-new` and `<variant>-warm` of every variant, against the given new and warm scenarios. */
function variantsAgainst(forNew: string, forWarm: string): Record<string, string> {
  return Object.fromEntries(
    Object.keys(VARIANTS).flatMap((variant) => [
      [`${variant}-new`, forNew],
      [`${variant}-warm`, forWarm],
    ]),
  );
}

type Quantiles = { p50: number; p95: number; p99: number };

function added(of: Quantiles, base: Quantiles): Quantiles {
  return { p50: of.p50 - base.p50, p95: of.p95 - base.p95, p99: of.p99 - base.p99 };
}

/** x / y with the floor's added latency clamped at 1 µs (it can be ~0 or negative within noise). */
function ratio(x: number, y: number): number {
  return Math.round((x / Math.max(1, y)) * 100) / 100;
}

const us = (value: number) => `${Math.round(value).toLocaleString('en-US')}`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export function report(input: BenchInput): { json: Record<string, unknown>; markdown: string } {
  const lines: string[] = [];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {
    date: new Date().toISOString(),
    quick: input.quick,
    machine: input.machine,
    plan: input.plan,
  };

  lines.push(
    `Machine: ${input.machine.cpu}, ${input.machine.cores} cores, ${input.machine.memory_gib} GiB, Node ${input.machine.node}; ` +
      'load generator, mock upstream, floor proxy and service share these cores.',
    '',
  );

  const latencyPart = latencySection(input.latency, input.quick);
  lines.push(...latencyPart.lines);
  targets.push(...latencyPart.targets);
  json.latency = latencyPart.json;

  const saturationTable = saturationLines(input.saturation, input.saturationRounds);
  lines.push(...saturationTable.lines);
  const throughput = saturationTable.throughput;
  const newRatio = ratio(throughput['service-new'] ?? 0, throughput['floor-1'] ?? 0);
  const warmRatio = ratio(throughput['service-warm'] ?? 0, throughput['floor-10'] ?? 0);
  lines.push('');
  targets.push({
    target: 'throughput at saturation ≥ 70% of the floor’s (new conversations)',
    measured: `${Math.round(newRatio * 100)}%`,
    met: newRatio >= 0.7,
  });
  targets.push({
    target: 'throughput at saturation ≥ 70% of the floor’s (10-turn warm chains)',
    measured: `${Math.round(warmRatio * 100)}%`,
    met: warmRatio >= 0.7,
  });
  const cpu = saturationTable.cpuPerRequest;
  for (const [service, nest, what] of CPU_AGAINST_NEST_FLOOR) {
    const [mine, theirs] = [cpu[service], cpu[nest]];
    if (mine === undefined || theirs === undefined) continue;
    const measured = ratio(mine, theirs);
    const perRound = saturationTable.cpuRatioPerRound[service] ?? [];
    targets.push({
      target: `CPU per request at saturation ≤ 1.6× the Nest floor’s (${what})`,
      measured: `${measured}× (${mine} µs vs ${theirs} µs${perRound.length > 1 ? `; per round ${perRound.join(', ')}` : ''})`,
      met: measured <= 1.6,
    });
  }
  json.saturation = {
    throughput,
    io_floor: saturationTable.ioFloor,
    cpu_us_per_request: saturationTable.cpuPerRequest,
    cpu_ratio_to_nest_floor_per_round: saturationTable.cpuRatioPerRound,
    service_new_over_floor: newRatio,
    service_warm_over_floor: warmRatio,
  };

  json.variants = {};
  for (const [variant, detail] of Object.entries(input.variants) as Array<[VariantName, string]>) {
    const part = variantSection(variant, detail, input.latency, input.saturation);
    lines.push(...part.lines);
    (json.variants as Record<string, unknown>)[variant] = { detail, ...part.json };
  }

  const overloadPart = overloadSection(input.overload, input.overloadRates);
  lines.push(...overloadPart.lines);
  targets.push(...overloadPart.targets);
  json.overload = overloadPart.json;

  const depthPart = depthSection(input.depth, input.depthRate);
  lines.push(...depthPart.lines);
  targets.push(...depthPart.targets);
  json.history_growth = depthPart.json;

  const streamingPart = streamingSection(input.streaming);
  lines.push(...streamingPart.lines);
  targets.push(...streamingPart.targets);
  json.streaming = streamingPart.json;

  lines.push(
    '### Micro-benchmarks',
    '',
    '| chain resolution from Redis | round trips | p50 µs | p99 µs |',
    '|---|---:|---:|---:|',
  );
  for (const row of input.micro.chain_resolution)
    lines.push(
      `| depth ${row.depth} | ${row.round_trips} (${row.commands.join(', ')}) | ${us(row.p50_us)} | ${us(row.p99_us)} |`,
    );
  lines.push('', '| PostgreSQL fallback (one recursive query) | p50 µs | p99 µs |', '|---|---:|---:|');
  for (const row of input.micro.database_fallback)
    lines.push(`| depth ${row.depth} | ${us(row.p50_us)} | ${us(row.p99_us)} |`);
  const writer = input.micro.writer;
  lines.push(
    '',
    `Spend-log writer: ${writer.writer_rows_per_s} rows/s vs plain multi-row INSERT through pg ${writer.plain_insert_rows_per_s} rows/s (${writer.rows} rows, ratio ${writer.ratio}).`,
    '',
  );
  targets.push({
    target: 'chain resolution from Redis: exactly one round trip at depth 1, 10 and 50',
    measured: input.micro.chain_resolution.map((row) => `${row.depth}: ${row.round_trips}`).join(', '),
    met: input.micro.chain_resolution.every((row) => row.round_trips === 1),
  });
  targets.push({
    target: 'spend-log writer ≥ 0.5× plain multi-row INSERT',
    measured: `${writer.ratio}×`,
    met: writer.ratio >= 0.5,
  });
  json.micro = input.micro;

  lines.push(
    `RSS: ${mb(input.rss.idle_bytes)} idle, ${mb(input.rss.after_load_bytes)} after the load runs, ` +
      `${mb(input.rss.open_streams_bytes)} with ${input.rss.open_streams} streams open at once ` +
      `(${mb(input.rss.open_streams_file_bytes)} of it pages of files, mostly the node binary's), ` +
      `${mb(input.rss.finished_bytes)} once ${input.rss.finished_streams} of them had been read to their end (V8 keeps ` +
      `the heap they made it grow). With ${input.rss.long_history.streams} streams open at once continuing a ` +
      `${input.rss.long_history.history_kib} KiB history: ${mb(input.rss.long_history.open_streams_bytes)} ` +
      `(${mb(input.rss.long_history.idle_bytes)} idle, ${input.rss.long_history.kib_per_stream} KiB per stream), ` +
      `${mb(input.rss.long_history.finished_bytes)} once they had ended.`,
    '',
  );
  targets.push({
    target: `RSS ≤ 200 MB with 1,000 open streams`,
    measured:
      `${mb(input.rss.open_streams_bytes)} (${input.rss.open_streams} open; ` +
      `${mb(input.rss.open_streams_file_bytes)} of it pages of files, shared between processes)`,
    met: input.rss.open_streams >= 1000 && input.rss.open_streams_bytes <= 200 * 2 ** 20,
  });
  json.rss = input.rss;

  lines.push('### Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const row of targets) lines.push(`| ${row.target} | ${row.measured} | ${row.met ? 'yes' : 'NO'} |`);
  json.targets = targets;
  return { json, markdown: lines.join('\n') };
}

/** The saturation table: throughput, latency and, where measured, CPU per request of the process in front. */
export function saturationLines(
  saturation: Record<string, LoadResult>,
  rounds: Array<Record<string, LoadResult>>,
): {
  lines: string[];
  throughput: Record<string, number>;
  cpuPerRequest: Record<string, number>;
  /** CPU per request of the service over the Nest floor's, round by round (service-new, service-warm). */
  cpuRatioPerRound: Record<string, string[]>;
  ioFloor: Record<string, unknown>;
} {
  const lines = [
    '### Saturation (closed loop, 64 concurrent clients)',
    '',
    '| scenario | req/s | p50 µs | p99 µs | CPU µs per request (process in front) | errors |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const throughput: Record<string, number> = {};
  const cpuPerRequest: Record<string, number> = {};
  for (const [name, result] of inScenarioOrder(saturation)) {
    const q = percentiles(result.latency);
    throughput[name] = Math.round(result.ok / result.seconds);
    const cpu = cpuPerRequestOf(result);
    if (cpu !== undefined) cpuPerRequest[name] = cpu;
    lines.push(
      `| ${name} | ${throughput[name]} | ${us(q.p50)} | ${us(q.p99)} | ${cpuPerRequest[name] ?? '-'} | ${result.errors} |`,
    );
  }
  const ratios = Object.entries(THROUGHPUT_FLOOR)
    .filter(([name, floor]) => throughput[name] !== undefined && throughput[floor] !== undefined)
    .map(([name, floor]) => `${name} / ${floor}: ${ratio(throughput[name] ?? 0, throughput[floor] ?? 0)}`);
  if (ratios.length > 0) lines.push('', `Throughput against the floor: ${ratios.join('; ')}`);
  const cpuRatioPerRound: Record<string, string[]> = {};
  for (const [service, nest] of CPU_AGAINST_NEST_FLOOR) {
    const perRound = roundRatios(rounds, service, nest);
    if (perRound.length > 0) cpuRatioPerRound[service] = perRound;
  }
  const perRoundText = Object.entries(cpuRatioPerRound).map(([name, values]) => `${name} ${values.join(', ')}`);
  if (perRoundText.length > 0)
    lines.push('', `CPU per request against the Nest floor's, round by round: ${perRoundText.join('; ')}`);
  const ioFloor = ioFloorLines(cpuPerRequest);
  lines.push(...ioFloor.lines);
  return { lines, throughput, cpuPerRequest, cpuRatioPerRound, ioFloor: ioFloor.json };
}

/**
 * The I/O floor's CPU per request against the Nest floor's, and the service's against the I/O floor's: how
 * much of a turn's cost is the work every stateful turn needs, and how much is the service's own.
 */
function ioFloorLines(cpu: Record<string, number>): { lines: string[]; json: Record<string, unknown> } {
  const pairs = [
    ['new conversations', 'io-floor-new', 'nest-floor-1', 'service-new'],
    ['10-turn warm chains', 'io-floor-warm', 'nest-floor-10', 'service-warm'],
  ] as const;
  const parts: string[] = [];
  const json: Record<string, unknown> = {};
  for (const [what, io, nest, service] of pairs) {
    const [ioCpu, nestCpu, serviceCpu] = [cpu[io], cpu[nest], cpu[service]];
    if (ioCpu === undefined || nestCpu === undefined || serviceCpu === undefined) continue;
    const [floorRatio, serviceRatio] = [ratio(ioCpu, nestCpu), ratio(serviceCpu, ioCpu)];
    parts.push(`${what}: the I/O floor ${floorRatio}× the Nest floor's, the service ${serviceRatio}× the I/O floor's`);
    json[io] = { over_nest_floor: floorRatio, service_over_io_floor: serviceRatio };
  }
  if (parts.length === 0) return { lines: [], json };
  return { lines: ['', `CPU per request with the I/O floor (test/bench/io-floor.ts): ${parts.join('; ')}.`], json };
}

/** Which floor each scenario's saturation throughput is compared with (same payload upstream). */
const THROUGHPUT_FLOOR: Record<string, string> = {
  'nest-floor-1': 'floor-1',
  'service-new': 'floor-1',
  'nest-floor-10': 'floor-10',
  'service-warm': 'floor-10',
  ...variantsAgainst('floor-1', 'floor-10'),
};

type Target = { target: string; measured: string; met: boolean };
interface Section {
  lines: string[];
  json: Record<string, unknown>;
  targets: Target[];
}

/** Fixed-rate tables, one per rate: latency, added latency against direct, and CPU per request. */
export function latencySection(latency: Record<string, Record<string, LoadResult>>, quick: boolean): Section {
  const lines: string[] = [];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {};
  for (const [rate, scenarios] of Object.entries(latency)) {
    lines.push(
      `### Fixed rate ${rate} req/s (latency in µs from when each request was due; upstream answers after 20 ms)`,
      '',
      '| scenario | p50 | p95 | p99 | added p50 | added p95 | added p99 | CPU µs per request | ok / sent | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    const rows: Record<string, unknown> = {};
    for (const [name, result] of inScenarioOrder(scenarios)) {
      const q = percentiles(result.latency);
      const baseName = BASELINE[name];
      const base = baseName ? scenarios[baseName] : undefined;
      const extra = base ? added(q, percentiles(base.latency)) : undefined;
      const cpu = cpuPerRequestOf(result);
      rows[name] = {
        ...q,
        added: extra ?? null,
        cpu_us_per_request: cpu ?? null,
        ok: result.ok,
        sent: result.sent,
        errors: result.errors,
        refused_by: result.refusedBy,
        send_lag_p99: result.sendLag ? percentiles(result.sendLag).p99 : null,
      };
      lines.push(
        `| ${name} | ${us(q.p50)} | ${us(q.p95)} | ${us(q.p99)} | ${extra ? us(extra.p50) : '-'} | ${extra ? us(extra.p95) : '-'} | ${extra ? us(extra.p99) : '-'} | ${cpu === undefined ? '-' : us(cpu)} | ${result.ok} / ${result.sent} | ${errorsOf(result)} |`,
      );
    }
    json[rate] = rows;
    lines.push('');
    const warm = rows['service-warm'] as { added: Quantiles | null } | undefined;
    const floor = rows['floor-10'] as { added: Quantiles | null } | undefined;
    const cold = rows['service-cold'] as { cpu_us_per_request: number | null } | undefined;
    const nestCpu = (rows['nest-floor-10'] as { cpu_us_per_request: number | null } | undefined)?.cpu_us_per_request;
    if ((rate === '1000' || (rate === '500' && quick)) && cold?.cpu_us_per_request && nestCpu) {
      // Not at saturation: every cold request needs a chain of its own, and a closed loop's count is not known.
      const measured = ratio(cold.cpu_us_per_request, nestCpu);
      targets.push({
        target: `CPU per request of cold 10-turn chains ≤ 2.5× the Nest floor’s (${rate} req/s)`,
        measured: `${measured}× (${us(cold.cpu_us_per_request)} µs vs ${us(nestCpu)} µs)`,
        met: measured <= 2.5,
      });
    }
    if ((rate === '1000' || (rate === '500' && quick)) && warm?.added && floor?.added) {
      for (const quantile of ['p50', 'p99'] as const) {
        const [service, floorAdded] = [warm.added[quantile], floor.added[quantile]];
        const measured = ratio(service, floorAdded);
        targets.push({
          target: `added latency, 10-turn chains from warm Redis, ≤ 2× the floor’s at ${quantile} (${rate} req/s)`,
          measured:
            floorAdded > 0
              ? `${measured}× (${us(service)} µs vs ${us(floorAdded)} µs)`
              : `${us(service)} µs vs the floor’s ${us(floorAdded)} µs (no ratio: the floor’s is within noise of direct)`,
          met: measured <= 2,
        });
      }
    }
  }
  return { lines, json, targets };
}

/** The service against one of its variants (the same build with one thing changed), per rate and at saturation. */
export function variantSection(
  variant: VariantName,
  detail: string,
  latency: Record<string, Record<string, LoadResult>>,
  saturation: Record<string, LoadResult>,
): Omit<Section, 'targets'> {
  const lines = [
    `### The service against itself ${VARIANTS[variant]}${detail ? `: ${detail}` : ''}`,
    '',
    `| turns | where | added p50 service / ${variant} | added p99 service / ${variant} | CPU µs per request service / ${variant} |`,
    '|---|---|---:|---:|---:|',
  ];
  const json: Record<string, unknown> = {};
  const pairs = [
    ['new', 'service-new', `${variant}-new`, 'direct-1'],
    ['warm 10-turn', 'service-warm', `${variant}-warm`, 'direct-10'],
  ] as const;
  for (const [rate, scenarios] of Object.entries(latency)) {
    for (const [label, service, other, direct] of pairs) {
      const [a, b, base] = [scenarios[service], scenarios[other], scenarios[direct]];
      if (!a || !b || !base) continue;
      const baseQ = percentiles(base.latency);
      const [addedA, addedB] = [added(percentiles(a.latency), baseQ), added(percentiles(b.latency), baseQ)];
      const [cpuA, cpuB] = [cpuPerRequestOf(a), cpuPerRequestOf(b)];
      json[`${rate}/${label}`] = {
        service: { added: addedA, cpu_us: cpuA },
        [variant]: { added: addedB, cpu_us: cpuB },
      };
      lines.push(
        `| ${label} | ${rate} req/s | ${us(addedA.p50)} / ${us(addedB.p50)} | ${us(addedA.p99)} / ${us(addedB.p99)} | ${cpuA ?? '-'} / ${cpuB ?? '-'} |`,
      );
    }
  }
  for (const [label, service, other] of pairs) {
    const [a, b] = [saturation[service], saturation[other]];
    if (!a || !b) continue;
    const [rpsA, rpsB] = [a.ok / a.seconds, b.ok / b.seconds];
    const [cpuA, cpuB] = [cpuPerRequestOf(a), cpuPerRequestOf(b)];
    json[`saturation/${label}`] = {
      service_rps: Math.round(rpsA),
      [`${variant}_rps`]: Math.round(rpsB),
      cpu_us: { service: cpuA, [variant]: cpuB },
      rps_ratio: ratio(rpsB, rpsA),
    };
    lines.push(
      `| ${label} | saturation | ${Math.round(rpsA)} / ${Math.round(rpsB)} req/s (${variant}: ${ratio(rpsB, rpsA)}×) | | ${cpuA ?? '-'} / ${cpuB ?? '-'} |`,
    );
  }
  lines.push('');
  return { lines, json };
}

/**
 * Offered twice the service's capacity (open loop): the share it admits and their latency, against the
 * Nest floor and direct calls at the same rate; the target is on the added p99 of what is admitted.
 */
export function overloadSection(overload: Record<string, LoadResult>, rates: Record<string, number>): Section {
  const lines = [
    '### Overload (open loop at twice the capacity measured at saturation; latency of the 2xx answers)',
    '',
    '| scenario | offered req/s | answered 2xx req/s | refused (503/429) | other errors | p50 µs | p99 µs | added p50 | added p99 | CPU µs per 2xx answer | generator late p99 µs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {};
  for (const [name, result] of inScenarioOrder(overload)) {
    const q = percentiles(result.okLatency);
    const base = overload[BASELINE[name] ?? ''];
    const extra = base ? added(q, percentiles(base.okLatency)) : undefined;
    const refusedShare = result.refused / Math.max(1, result.sent);
    // Per answer served: the refusals' cost is part of what serving the admitted ones took.
    const cpu = cpuPerRequestOf(result, result.ok);
    const lag = result.sendLag ? percentiles(result.sendLag) : undefined;
    json[name] = {
      offered_rps: rates[name],
      ok_rps: Math.round(result.ok / result.seconds),
      refused_share: Math.round(refusedShare * 1000) / 1000,
      refused_by: result.refusedBy,
      other_errors: result.errors - result.refused,
      admitted: q,
      added: extra ?? null,
      cpu_us_per_ok: cpu ?? null,
      send_lag: lag ?? null,
    };
    lines.push(
      `| ${name} | ${rates[name] ?? '-'} | ${Math.round(result.ok / result.seconds)} | ${Math.round(refusedShare * 100)}%${refusalCodes(result)} | ${result.errors - result.refused} | ${us(q.p50)} | ${us(q.p99)} | ${extra ? us(extra.p50) : '-'} | ${extra ? us(extra.p99) : '-'} | ${cpu ?? '-'} | ${lag ? us(lag.p99) : '-'} |`,
    );
  }
  lines.push('');
  for (const [service, nest] of [
    ['service-new', 'nest-floor-1'],
    ['service-warm', 'nest-floor-10'],
  ] as const) {
    const [a, b] = [json[service], json[nest]] as Array<{ added: Quantiles | null } | undefined>;
    if (!a?.added || !b?.added) continue;
    const r = ratio(a.added.p99, b.added.p99);
    targets.push({
      target: `offered 2× capacity (${service}), admitted added p99 ≤ 10× the Nest floor’s at the same rate`,
      measured: `${r}× (${us(a.added.p99)} µs vs ${us(b.added.p99)} µs), ${Math.round((json[service] as { refused_share: number }).refused_share * 100)}% refused`,
      met: r <= 10,
    });
  }
  return { lines, json, targets };
}

/** Errors, with the refusals among them by error code: `12 (server_overloaded 10, history_unavailable 2)`. */
function errorsOf(result: LoadResult): string {
  return result.refused === 0 ? String(result.errors) : `${result.errors}${refusalCodes(result)}`;
}

/** ` (server_overloaded 10, …)` when there were refusals. */
function refusalCodes(result: LoadResult): string {
  const codes = Object.entries(result.refusedBy).sort(([, a], [, b]) => b - a);
  return codes.length === 0 ? '' : ` (${codes.map(([code, n]) => `${code} ${n}`).join(', ')})`;
}

/** CPU µs per request ≈ a + b × KiB: least squares over the points. */
function linearFit(points: Array<[number, number]>): { a: number; b: number } {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: meanY - b * meanX, b };
}

/**
 * Growth with history: added latency and CPU per request at each depth, warm and cold, a linear fit of the CPU
 * against the history's KiB, and whether the cost per KiB grows with depth (it should not: linear or better).
 */
export function depthSection(runs: DepthRun[], rate: number): Section {
  const lines: string[] = [];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {};
  if (runs.length === 0) return { lines, json, targets };
  lines.push(
    `### Growth with history (${TURN_BYTES / 1024} KiB turns, ${rate} req/s; added = minus direct calls with the same history; CPU: the gateway's, minus its idle CPU over as long)`,
    '',
    '| depth | history KiB | warm added p50 | warm added p99 | warm CPU µs | cold added p50 | cold added p99 | cold CPU µs | errors warm / cold |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const cpu: Record<'warm' | 'cold', Array<[number, number]>> = { warm: [], cold: [] };
  for (const run of runs) {
    const base = percentiles(run.direct.latency);
    const [warm, cold] = [added(percentiles(run.warm.latency), base), added(percentiles(run.cold.latency), base)];
    const [warmCpu, coldCpu] = [cpuPerRequestOf(run.warm), cpuPerRequestOf(run.cold)];
    if (warmCpu !== undefined) cpu.warm.push([run.historyKib, warmCpu]);
    if (coldCpu !== undefined) cpu.cold.push([run.historyKib, coldCpu]);
    json[run.depth] = {
      history_kib: Math.round(run.historyKib),
      warm: { added: warm, cpu_us: warmCpu ?? null, errors: run.warm.errors },
      cold: { added: cold, cpu_us: coldCpu ?? null, errors: run.cold.errors },
    };
    lines.push(
      `| ${run.depth} | ${Math.round(run.historyKib)} | ${us(warm.p50)} | ${us(warm.p99)} | ${warmCpu ?? '-'} | ${us(cold.p50)} | ${us(cold.p99)} | ${coldCpu ?? '-'} | ${run.warm.errors} / ${run.cold.errors} |`,
    );
  }
  lines.push('');
  for (const kind of ['warm', 'cold'] as const) {
    const points = cpu[kind];
    if (points.length < 3) continue;
    const { a, b } = linearFit(points);
    const [p10, p50, p200] = points as [[number, number], [number, number], [number, number]];
    const early = (p50[1] - p10[1]) / (p50[0] - p10[0]);
    const late = (p200[1] - p50[1]) / (p200[0] - p50[0]);
    json[`${kind}_fit`] = { constant_us: Math.round(a), us_per_kib: Math.round(b * 10) / 10, early, late };
    lines.push(
      `${kind}: CPU µs per request ≈ ${Math.round(a)} + ${(Math.round(b * 10) / 10).toLocaleString('en-US')} × KiB of history; per KiB ${early.toFixed(1)} µs from depth 10 to 50, ${late.toFixed(1)} µs from 50 to 200`,
    );
    targets.push({
      target: `growth with history no worse than linear in its bytes (${kind}: cost per KiB from depth 50 to 200 ≤ 1.5× that from 10 to 50)`,
      measured: `${late.toFixed(1)} vs ${early.toFixed(1)} µs per KiB (fit: ${Math.round(a)} µs + ${b.toFixed(1)} µs/KiB)`,
      met: late <= 1.5 * Math.max(early, 0.1),
    });
  }
  lines.push('');
  return { lines, json, targets };
}

/** Streams: time to first and last byte, added first-byte latency against direct. */
export function streamingSection(streaming: Record<string, LoadResult>): Section {
  const lines = [
    '### Streaming (µs; first byte / last byte)',
    '',
    '| scenario | TTFB p50 | TTFB p99 | added TTFB p50 | added TTFB p99 | TTLB p50 | TTLB p99 | CPU µs per request | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const targets: Target[] = [];
  const json: Record<string, unknown> = {};
  const firstByte = (name: string) => {
    const result = streaming[name];
    return result?.firstByte ? percentiles(result.firstByte) : undefined;
  };
  const direct = firstByte('direct-stream');
  for (const [name, result] of inScenarioOrder(streaming)) {
    const ttfb = firstByte(name);
    const ttlb = percentiles(result.latency);
    const extra = ttfb && direct && name !== 'direct-stream' ? added(ttfb, direct) : undefined;
    const cpu = cpuPerRequestOf(result);
    json[name] = { ttfb, ttlb, added_ttfb: extra ?? null, cpu_us_per_request: cpu ?? null, errors: result.errors };
    lines.push(
      `| ${name} | ${ttfb ? us(ttfb.p50) : '-'} | ${ttfb ? us(ttfb.p99) : '-'} | ${extra ? us(extra.p50) : '-'} | ${extra ? us(extra.p99) : '-'} | ${us(ttlb.p50)} | ${us(ttlb.p99)} | ${cpu === undefined ? '-' : us(cpu)} | ${result.errors} |`,
    );
  }
  lines.push('');
  const serviceTtfb = json['service-stream'] as { added_ttfb: Quantiles | null } | undefined;
  const floorTtfb = json['floor-stream'] as { added_ttfb: Quantiles | null } | undefined;
  if (serviceTtfb?.added_ttfb && floorTtfb?.added_ttfb) {
    const r = ratio(serviceTtfb.added_ttfb.p50, floorTtfb.added_ttfb.p50);
    targets.push({
      target: 'streaming first-byte added latency ≤ 2× the floor’s (p50)',
      measured: `${r}× (${us(serviceTtfb.added_ttfb.p50)} µs vs ${us(floorTtfb.added_ttfb.p50)} µs)`,
      met: r <= 2,
    });
  }
  return { lines, json, targets };
}

/** CPU per request of `mine` over `theirs` in each round where both ran (× the Nest floor's, say). */
function roundRatios(rounds: Array<Record<string, LoadResult>>, mine: string, theirs: string): string[] {
  return rounds.flatMap((round) => {
    const [a, b] = [round[mine], round[theirs]];
    const [cpuA, cpuB] = [a && cpuPerRequestOf(a), b && cpuPerRequestOf(b)];
    return cpuA && cpuB ? [`${ratio(cpuA, cpuB)}×`] : [];
  });
}

/** CPU µs the process in front used per request sent (or per `requests`), where measured. */
function cpuPerRequestOf(result: LoadResult, requests = result.sent): number | undefined {
  return result.cpuSeconds === undefined ? undefined : Math.round((result.cpuSeconds * 1e6) / Math.max(1, requests));
}

/** Table rows in one order whatever order the (shuffled) segments ran in. */
function inScenarioOrder(results: Record<string, LoadResult>): Array<[string, LoadResult]> {
  const rank = (name: string) => (SCENARIO_ORDER.includes(name) ? SCENARIO_ORDER.indexOf(name) : SCENARIO_ORDER.length);
  return Object.entries(results).sort(([a], [b]) => rank(a) - rank(b));
}
