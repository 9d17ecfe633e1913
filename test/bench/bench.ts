/**
 * `npm run bench [-- --quick]`: the service against direct upstream calls and a bare passthrough
 * proxy (the floor), measured interleaved in one run, plus micro-benchmarks. Prints a markdown
 * table and writes bench-results/latest.json. Needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { freePort } from '../support/redis-server';
import { createDatabase, deleteKeys, dropDatabase, migrate, withDatabase } from '../setup/test-services';
import { BENCH_KEY, chatMessagesForChain, continuing, seedChainsFor } from './fixtures';
import { closePools, fixedRate, LoadResult, poolFor, saturate, shuffled, Target } from './load';
import { chainResolution, databaseFallback, writerThroughput } from './micro';
import { BenchProcess, benchGatewayEnv, ENTRY } from './processes';
import { historyGrowth } from './depth';
import {
  depthSection,
  latencySection,
  OpenStreamsRss,
  overloadSection,
  report,
  saturationLines,
  streamingSection,
  variantSection,
} from './report';
import { ScenarioName, SCENARIOS, VariantName } from './scenarios';

const QUICK = process.argv.includes('--quick');
/** --profile: the main gateway writes a CPU profile to bench-results/profiles (see profile-summary.ts). */
const PROFILE = process.argv.includes('--profile');
/** --compare-node=PATH: the service also runs on that Node binary (e.g. Node 20 against 24), same build. */
const COMPARE_NODE = ((): { path: string; version: string } | null => {
  const path = process.argv.find((arg) => arg.startsWith('--compare-node='))?.slice('--compare-node='.length);
  if (!path) return null;
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  return { path, version };
})();
/**
 * Probes for optimisation work: --saturation, --latency [--rates=1000,2000], --streaming, --overload, --depth
 * and --rss (combinable)
 * run only those parts, in longer segments, and print their tables; --scenarios=a,b narrows them.
 */
const PROBES = {
  saturation: process.argv.includes('--saturation'),
  latency: process.argv.includes('--latency'),
  streaming: process.argv.includes('--streaming'),
  /** Open loop at twice the capacity measured at saturation (so it runs the saturation part too). */
  overload: process.argv.includes('--overload'),
  /** Growth with history: chains 10, 50 and 200 turns deep with 2 KB turns, warm and cold. */
  depth: process.argv.includes('--depth'),
  /** RSS of a gateway holding OPEN_STREAMS streams open at once. */
  rss: process.argv.includes('--rss'),
};
const PROBING =
  PROBES.saturation || PROBES.latency || PROBES.streaming || PROBES.overload || PROBES.depth || PROBES.rss;
/** Requests per second of the history-growth scenarios (a 200-turn history is about 400 KiB per request). */
const DEPTH_RATE = 50;
const PROBE_RATES = ((): number[] => {
  const given = process.argv.find((arg) => arg.startsWith('--rates='))?.slice('--rates='.length) ?? '1000';
  const rates = given.split(',').map(Number);
  // A rate that is not a positive number would leave the open-loop generator waiting forever.
  if (rates.some((rate) => !Number.isFinite(rate) || rate <= 0))
    throw new Error(`--rates=${given}: expected positive requests per second, e.g. --rates=500,1000`);
  return rates;
})();
const PLAN = PROBING
  ? {
      rates: PROBES.latency ? PROBE_RATES : [],
      segmentMs: 5000,
      rounds: 3,
      coldMaxRate: 1000,
      saturationMs: PROBES.saturation || PROBES.overload ? 5000 : 0,
      overload: PROBES.overload,
      depth: PROBES.depth,
      streamRate: PROBES.streaming ? 200 : 0,
      rows: 0,
    }
  : QUICK
    ? {
        rates: [500],
        segmentMs: 1500,
        rounds: 1,
        coldMaxRate: 1000,
        saturationMs: 1500,
        overload: true,
        depth: true,
        streamRate: 200,
        rows: 2000,
      }
    : {
        rates: [500, 1000, 2000],
        segmentMs: 3000,
        rounds: 3,
        coldMaxRate: 1000,
        saturationMs: 3000,
        overload: true,
        depth: true,
        streamRate: 200,
        rows: 10000,
      };
/** Overload runs: the service's scenario, and the Nest floor and direct calls with the same payload at the same rate. */
const OVERLOAD_GROUPS = [
  ['service-new', 'nest-floor-1', 'direct-1'],
  ['service-warm', 'nest-floor-10', 'direct-10'],
] as const;
const UPSTREAM_LATENCY_MS = 20;
const WARMUP = { rate: 500, ms: QUICK ? 1500 : 4000 };
const CHAIN_DEPTH = 10;
const CONCURRENCY = 64;
const OPEN_STREAMS = 1000;
/** Streams continuing one long conversation: what an open stream holds of its history. */
const LONG_HISTORY = { streams: 200, kib: 200 };
/** --scenarios=a,b: only these (within the parts that run), e.g. to profile one path. */
const CHOSEN = ((): ReadonlySet<string> | null => {
  const chosen = process.argv.find((arg) => arg.startsWith('--scenarios='))?.slice('--scenarios='.length);
  if (!chosen) return null;
  const known = new Set<string>(Object.values(SCENARIOS).flat());
  const unknown = chosen.split(',').filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${[...known].join(', ')}`);
  return new Set(chosen.split(','));
})();
/** The variants of the service that run (see VARIANTS), with what sets each apart. */
const RUNNING_VARIANTS: Partial<Record<VariantName, string>> = {
  unjournaled: '',
  traced: '',
  ...(COMPARE_NODE ? { 'other-node': `Node ${process.version} against ${COMPARE_NODE.version}` } : {}),
};
const isRunning = (name: ScenarioName): boolean =>
  !name.startsWith('other-node') || RUNNING_VARIANTS['other-node'] !== undefined;
const chosen = (names: readonly ScenarioName[]): ScenarioName[] =>
  names.filter((name) => isRunning(name) && (CHOSEN === null || CHOSEN.has(name)));
/** More warm continuations per second than the service manages at saturation here (sizes the fixtures). */
const SATURATION_CEILING = 3000;

const BEGAN = performance.now();

function log(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - BEGAN) / 1000).toFixed(1)}s] ${message}\n`);
}

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const outDir = join(__dirname, '..', '..', 'bench-results');
  const logDir = join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `rsc_bench_${runId}`;
  const databaseUrl = withDatabase(adminUrl, database);
  const prefix = `rsc-bench-${runId}`;
  const processes: BenchProcess[] = [];

  log(`${QUICK ? 'quick' : 'full'} run ${runId}: database ${database}, key prefix ${prefix}`);
  await createDatabase(adminUrl, database);
  try {
    await migrate(databaseUrl);
    const [mockPort, floorPort, nestFloorPort, ioFloorPort, gatewayPort, sinkPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const mock = BenchProcess.start(
      'mock-llm',
      ENTRY.mock,
      { MOCK_LLM_PORT: String(mockPort), MOCK_LLM_LATENCY_MS: String(UPSTREAM_LATENCY_MS) },
      logDir,
    );
    const floor = BenchProcess.start(
      'floor',
      ENTRY.floor,
      { FLOOR_PORT: String(floorPort), FLOOR_UPSTREAM: `http://127.0.0.1:${mockPort}` },
      logDir,
    );
    // The same passthrough inside NestJS: what the framework's request pipeline alone costs.
    const nestFloor = BenchProcess.start(
      'nest-floor',
      ENTRY.nestFloor,
      { FLOOR_PORT: String(nestFloorPort), FLOOR_UPSTREAM: `http://127.0.0.1:${mockPort}` },
      logDir,
    );
    // The Nest floor plus the Redis, upstream and PostgreSQL work of a turn, on the service's key layout.
    const ioFloor = BenchProcess.start(
      'io-floor',
      ENTRY.ioFloor,
      {
        FLOOR_PORT: String(ioFloorPort),
        FLOOR_UPSTREAM: `http://127.0.0.1:${mockPort}`,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
      },
      logDir,
    );
    const gatewayEnv = {
      ...benchGatewayEnv({ mockPort, databaseUrl, redisUrl, prefix }),
      PORT: String(gatewayPort),
      ADMIN_API_KEY: 'bench-admin',
    };
    const profileArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'profiles')}`] : [];
    const gateway = BenchProcess.start('gateway', [...profileArgs, ...ENTRY.gateway], gatewayEnv, logDir);
    const sink = BenchProcess.start('otlp-sink', ENTRY.otlpSink, { OTLP_SINK_PORT: String(sinkPort) }, logDir);
    processes.push(mock, floor, nestFloor, ioFloor, gateway, sink);
    // Variants: the same build with one thing changed, sharing the namespace (they find the same chains).
    const variantSetup: Record<VariantName, { env: Record<string, string>; node?: string }> = {
      unjournaled: { env: { DURABLE_JOURNAL: 'false' } },
      traced: {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTEL_SERVICE_NAME: 'rsc-bench' },
      },
      'other-node': { env: {}, node: COMPARE_NODE?.path },
    };
    const variants: Array<{ name: VariantName; process: BenchProcess; origin: string }> = [];
    for (const name of Object.keys(RUNNING_VARIANTS) as VariantName[]) {
      const port = await freePort();
      const { env, node } = variantSetup[name];
      const started = BenchProcess.start(
        `gateway-${name}`,
        ENTRY.gateway,
        { ...gatewayEnv, ...env, PORT: String(port) },
        logDir,
        node,
      );
      processes.push(started);
      variants.push({ name, process: started, origin: `http://127.0.0.1:${port}` });
    }
    await mock.waitForHttp(`http://127.0.0.1:${mockPort}/health`);
    await floor.waitForHttp(`http://127.0.0.1:${floorPort}/health`);
    await nestFloor.waitForHttp(`http://127.0.0.1:${nestFloorPort}/health`);
    await ioFloor.waitForHttp(`http://127.0.0.1:${ioFloorPort}/health`);
    await sink.waitForHttp(`http://127.0.0.1:${sinkPort}/`);
    await gateway.waitForHttp(`http://127.0.0.1:${gatewayPort}/health/ready`);
    for (const variant of variants) await variant.process.waitForHttp(`${variant.origin}/health/ready`);

    // Fixtures: warm chains (Redis + PostgreSQL) get at most ~20 continuations each, so the
    // per-session cap never evicts their ancestors; every cold request gets a chain of its own.
    const config = new AppConfig({ ...process.env, ...gatewayEnv });
    const warmAtSaturation = SATURATION_CEILING * (PLAN.saturationMs / 1000) * PLAN.rounds;
    const warmAtOverload = PLAN.overload ? 2 * SATURATION_CEILING * (PLAN.segmentMs / 1000) * PLAN.rounds : 0;
    const totalWarm =
      PLAN.rates.reduce((sum, rate) => sum + rate, 0) * (PLAN.segmentMs / 1000) * PLAN.rounds +
      warmAtSaturation +
      warmAtOverload +
      WARMUP.rate * (WARMUP.ms / 1000);
    const totalCold =
      PLAN.rates.filter((rate) => rate <= PLAN.coldMaxRate).reduce((sum, rate) => sum + rate, 0) *
      (PLAN.segmentMs / 1000) *
      PLAN.rounds;
    // The service's warm scenario, each variant's and the I/O floor's continue the same chains.
    const warmScenarios = 2 + variants.length;
    const warmHeads = await seedChainsFor(config, Math.ceil((warmScenarios * totalWarm) / 20) + 50, CHAIN_DEPTH, true);
    const coldHeads = await seedChainsFor(config, Math.ceil(totalCold * 1.05) + 50, CHAIN_DEPTH, false);
    log(`seeded ${warmHeads.length} warm and ${coldHeads.length} cold ${CHAIN_DEPTH}-turn chains`);

    const mockOrigin = `http://127.0.0.1:${mockPort}`;
    const floorOrigin = `http://127.0.0.1:${floorPort}`;
    const nestFloorOrigin = `http://127.0.0.1:${nestFloorPort}`;
    const ioFloorOrigin = `http://127.0.0.1:${ioFloorPort}`;
    const gatewayOrigin = `http://127.0.0.1:${gatewayPort}`;
    const auth = { authorization: `Bearer ${BENCH_KEY}` };
    const oneTurn = JSON.stringify({
      model: 'mock-gpt',
      messages: [{ role: 'user', content: 'Hello! What can you do?' }],
    });
    const tenTurns = JSON.stringify({ model: 'mock-gpt', messages: chatMessagesForChain(CHAIN_DEPTH) });
    const chatStream = JSON.stringify({
      model: 'mock-gpt',
      messages: [{ role: 'user', content: 'Hello! What can you do?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const newTurn = () => JSON.stringify({ model: 'mock-gpt', input: 'Hello! What can you do?' });
    const variantTargets: Partial<Record<ScenarioName, Target>> = {};
    for (const variant of variants) {
      const { origin, name } = variant;
      variantTargets[`${name}-new`] = { origin, path: '/v1/responses', headers: auth, body: newTurn };
      variantTargets[`${name}-warm`] = { origin, path: '/v1/responses', headers: auth, body: continuing(warmHeads) };
    }
    const targets: Partial<Record<ScenarioName, Target>> = {
      ...variantTargets,
      'direct-1': { origin: mockOrigin, path: '/v1/chat/completions', headers: auth, body: () => oneTurn },
      'floor-1': { origin: floorOrigin, path: '/v1/chat/completions', headers: auth, body: () => oneTurn },
      'nest-floor-1': { origin: nestFloorOrigin, path: '/v1/chat/completions', headers: auth, body: () => oneTurn },
      'io-floor-new': { origin: ioFloorOrigin, path: '/v1/responses', headers: auth, body: newTurn },
      'service-new': {
        origin: gatewayOrigin,
        path: '/v1/responses',
        headers: auth,
        body: newTurn,
      },
      'direct-10': { origin: mockOrigin, path: '/v1/chat/completions', headers: auth, body: () => tenTurns },
      'floor-10': { origin: floorOrigin, path: '/v1/chat/completions', headers: auth, body: () => tenTurns },
      'nest-floor-10': { origin: nestFloorOrigin, path: '/v1/chat/completions', headers: auth, body: () => tenTurns },
      'io-floor-warm': { origin: ioFloorOrigin, path: '/v1/responses', headers: auth, body: continuing(warmHeads) },
      'service-warm': { origin: gatewayOrigin, path: '/v1/responses', headers: auth, body: continuing(warmHeads) },
      'service-cold': { origin: gatewayOrigin, path: '/v1/responses', headers: auth, body: continuing(coldHeads) },
      'direct-stream': { origin: mockOrigin, path: '/v1/chat/completions', headers: auth, body: () => chatStream },
      'floor-stream': { origin: floorOrigin, path: '/v1/chat/completions', headers: auth, body: () => chatStream },
      'nest-floor-stream': {
        origin: nestFloorOrigin,
        path: '/v1/chat/completions',
        headers: auth,
        body: () => chatStream,
      },
      'service-stream': {
        origin: gatewayOrigin,
        path: '/v1/responses',
        headers: auth,
        body: () => JSON.stringify({ model: 'mock-gpt', input: 'Hello! What can you do?', stream: true }),
      },
    };

    // Long enough for V8 to have optimised the hot paths: a freshly started service spends about twice
    // the CPU per request for its first few thousand requests, which is not what a running one costs.
    log('warming up');
    for (const name of SCENARIOS.saturation.filter(isRunning)) {
      await fixedRate(target(name), WARMUP.rate, WARMUP.ms);
    }

    function target(name: ScenarioName): Target {
      const found = targets[name];
      if (!found) throw new Error(`no target for ${name}`);
      return found;
    }
    const inFrontOf: Array<[string, BenchProcess]> = [
      ['service', gateway],
      ...variants.map((variant): [string, BenchProcess] => [variant.name, variant.process]),
      ['nest-floor', nestFloor],
      ['io-floor', ioFloor],
      ['floor', floor],
    ];
    /** One measured segment: the service idle first, and the CPU time of the process in front recorded. */
    const measure = async (name: ScenarioName, run: () => Promise<LoadResult>): Promise<LoadResult> => {
      await gateway.settle();
      for (const variant of variants) await variant.process.settle();
      const inFront = inFrontOf.find(([prefix]) => name.startsWith(prefix))?.[1] ?? mock;
      const cpuBefore = await inFront.cpuSeconds();
      const result = await run();
      result.cpuSeconds = (await inFront.cpuSeconds()) - cpuBefore;
      return result;
    };

    const latency: Record<string, Record<string, LoadResult>> = {};
    for (const rate of PLAN.rates) {
      const names = chosen(SCENARIOS.latency).filter((name) => name !== 'service-cold' || rate <= PLAN.coldMaxRate);
      latency[rate] = {};
      for (let round = 0; round < PLAN.rounds; round += 1) {
        for (const name of shuffled(names)) {
          log(`rate ${rate}/s round ${round + 1}: ${name}`);
          merge(latency[rate], name, await measure(name, () => fixedRate(target(name), rate, PLAN.segmentMs)));
        }
      }
    }

    const saturation: Record<string, LoadResult> = {};
    /** Each round's segments too: a ratio taken within one round is spared the drift between rounds. */
    const saturationRounds: Array<Record<string, LoadResult>> = [];
    for (let round = 0; round < PLAN.rounds && PLAN.saturationMs > 0; round += 1) {
      const thisRound: Record<string, LoadResult> = {};
      saturationRounds.push(thisRound);
      for (const name of shuffled(chosen(SCENARIOS.saturation))) {
        log(`saturation round ${round + 1}: ${name}`);
        const result = await measure(name, () => saturate(target(name), CONCURRENCY, PLAN.saturationMs));
        // A copy: merge adds the later rounds' counts into the first round's result.
        thisRound[name] = { ...result };
        merge(saturation, name, result);
      }
    }

    // Open loop at twice each capacity measured above: what is admitted, how fast, and how much is refused.
    const overload: Record<string, LoadResult> = {};
    const overloadRates: Record<string, number> = {};
    for (const group of PLAN.overload ? OVERLOAD_GROUPS : []) {
      const capacity = saturation[group[0]];
      if (!capacity) continue;
      const rate = Math.round((2 * capacity.ok) / capacity.seconds);
      for (const name of group) overloadRates[name] = rate;
      for (let round = 0; round < PLAN.rounds; round += 1) {
        for (const name of shuffled([...group])) {
          log(`overload ${rate}/s round ${round + 1}: ${name}`);
          merge(overload, name, await measure(name, () => fixedRate(target(name), rate, PLAN.segmentMs)));
        }
      }
    }

    const streaming: Record<string, LoadResult> = {};
    for (let round = 0; round < PLAN.rounds && PLAN.streamRate > 0; round += 1) {
      for (const name of shuffled(chosen(SCENARIOS.streaming))) {
        log(`streaming round ${round + 1}: ${name}`);
        merge(
          streaming,
          name,
          await measure(name, () => fixedRate(target(name), PLAN.streamRate, PLAN.segmentMs, true)),
        );
      }
    }
    const depth = PLAN.depth
      ? await historyGrowth({
          config,
          gateway,
          gatewayOrigin,
          mockOrigin,
          rate: DEPTH_RATE,
          segmentMs: PLAN.segmentMs,
          log,
        })
      : [];

    if (PROBING) {
      const sections = [
        ...(PROBES.latency ? latencySection(latency, false).lines : []),
        ...(PROBES.saturation ? saturationLines(saturation, saturationRounds).lines : []),
        ...(PROBES.latency || PROBES.saturation
          ? Object.entries(RUNNING_VARIANTS).flatMap(
              ([variant, detail]) => variantSection(variant as VariantName, detail, latency, saturation).lines,
            )
          : []),
        ...(PROBES.overload ? overloadSection(overload, overloadRates).lines : []),
        ...(PROBES.depth ? depthSection(depth, DEPTH_RATE).lines : []),
        ...(PROBES.streaming ? streamingSection(streaming).lines : []),
        ...(PROBES.rss ? rssLines(await rssProbes(logDir, databaseUrl, redisUrl, prefix, processes)) : []),
      ];
      console.log(sections.join('\n'));
      return;
    }
    const rssAfterLoad = await gateway.rssBytes();

    log(`RSS with ${OPEN_STREAMS} open streams, and with ${LONG_HISTORY.streams} on a ${LONG_HISTORY.kib} KiB history`);
    const openStreams = await rssProbes(logDir, databaseUrl, redisUrl, prefix, processes);

    log('micro-benchmarks');
    const micro = {
      chain_resolution: await chainResolution(config, [1, 10, 50], QUICK ? 300 : 2000),
      database_fallback: await databaseFallback(config, [10, 50, 200], QUICK ? 50 : 300),
      writer: await writerThroughput(config, PLAN.rows),
    };

    const results = report({
      quick: QUICK,
      plan: { ...PLAN, upstreamLatencyMs: UPSTREAM_LATENCY_MS, chainDepth: CHAIN_DEPTH, concurrency: CONCURRENCY },
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memory_gib: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      variants: RUNNING_VARIANTS,
      latency,
      saturation,
      saturationRounds,
      overload,
      overloadRates,
      depth,
      depthRate: DEPTH_RATE,
      streaming,
      rss: { after_load_bytes: rssAfterLoad, ...openStreams },
      micro,
    });
    const file = join(outDir, 'latest.json');
    writeFileSync(file, `${JSON.stringify(results.json, null, 2)}\n`);
    writeFileSync(join(outDir, `bench-${runId}.json`), `${JSON.stringify(results.json, null, 2)}\n`);
    console.log(results.markdown);
    log(`figures written to ${file}`);
  } finally {
    await closePools();
    for (const child of processes) await child.stop().catch(() => undefined);
    await dropDatabase(adminUrl, database).catch((error: unknown) =>
      log(`could not drop ${database}: ${String(error)}`),
    );
    await deleteKeys(redisUrl, prefix).catch(() => undefined);
  }
}

function merge(into: Record<string, LoadResult>, name: string, result: LoadResult): void {
  const existing = into[name];
  if (!existing) {
    into[name] = result;
    return;
  }
  existing.latency.add(result.latency);
  existing.okLatency.add(result.okLatency);
  existing.refused += result.refused;
  for (const [code, n] of Object.entries(result.refusedBy))
    existing.refusedBy[code] = (existing.refusedBy[code] ?? 0) + n;
  if (existing.sendLag && result.sendLag) existing.sendLag.add(result.sendLag);
  if (existing.firstByte && result.firstByte) existing.firstByte.add(result.firstByte);
  existing.sent += result.sent;
  existing.ok += result.ok;
  existing.errors += result.errors;
  existing.seconds += result.seconds;
  if (existing.cpuSeconds !== undefined && result.cpuSeconds !== undefined) existing.cpuSeconds += result.cpuSeconds;
}

/** RSS with OPEN_STREAMS new conversations streaming at once, and with LONG_HISTORY's streams (each on its own gateway). */
async function rssProbes(
  logDir: string,
  databaseUrl: string,
  redisUrl: string,
  prefix: string,
  processes: BenchProcess[],
) {
  const open = await rssWithOpenStreams(logDir, databaseUrl, redisUrl, prefix, processes, OPEN_STREAMS, 0);
  const long = await rssWithOpenStreams(
    logDir,
    databaseUrl,
    redisUrl,
    prefix,
    processes,
    LONG_HISTORY.streams,
    LONG_HISTORY.kib,
  );
  return {
    ...open,
    long_history: {
      streams: long.open_streams,
      history_kib: LONG_HISTORY.kib,
      idle_bytes: long.idle_bytes,
      open_streams_bytes: long.open_streams_bytes,
      finished_bytes: long.finished_bytes,
      kib_per_stream: Math.round((long.open_streams_bytes - long.idle_bytes) / 1024 / Math.max(1, long.open_streams)),
    },
  };
}

/**
 * A gateway of its own in front of a slow-streaming mock: RSS once `count` streams are open at once, each a new
 * conversation or (`historyKiB` > 0) each continuing the same response whose history is that long.
 */
async function rssWithOpenStreams(
  logDir: string,
  databaseUrl: string,
  redisUrl: string,
  prefix: string,
  processes: BenchProcess[],
  count: number,
  historyKiB: number,
): Promise<OpenStreamsRss> {
  const [mockPort, gatewayPort] = [await freePort(), await freePort()];
  const mock = BenchProcess.start(
    'mock-slow',
    ENTRY.mock,
    { MOCK_LLM_PORT: String(mockPort), MOCK_LLM_CHUNK_DELAY_MS: '1000' },
    logDir,
  );
  const gateway = BenchProcess.start(
    'gateway-streams',
    ENTRY.gateway,
    {
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      UPSTREAM_BASE_URL: `http://127.0.0.1:${mockPort}/v1`,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `${prefix}-streams`,
      // What 1,000 open streams cost in memory, not how a burst of 1,000 openings at a cold process is
      // admitted: with admission control on, part of that burst is refused and retried (docs/performance.md).
      OVERLOAD_QUEUE_TARGET_MS: '0',
      ADMIN_API_KEY: 'bench-admin',
      SHUTDOWN_DELAY_MS: '0',
    },
    logDir,
  );
  processes.push(mock, gateway);
  await mock.waitForHttp(`http://127.0.0.1:${mockPort}/health`);
  await gateway.waitForHttp(`http://127.0.0.1:${gatewayPort}/health/ready`);
  const origin = `http://127.0.0.1:${gatewayPort}`;
  const pool = poolFor(origin);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };
  let continued: { previous_response_id: string } | undefined;
  if (historyKiB > 0) {
    const input = 'Here is the whole file. '.repeat(Math.ceil((historyKiB * 1024) / 24)).slice(0, historyKiB * 1024);
    const parent = await pool.request({
      method: 'POST',
      path: '/v1/responses',
      headers,
      body: JSON.stringify({ model: 'mock-gpt', input }),
    });
    if (parent.statusCode !== 200) throw new Error(`the long history's first turn was answered ${parent.statusCode}`);
    continued = { previous_response_id: ((await parent.body.json()) as { id: string }).id };
  }
  const idle = await gateway.rssBytes();
  const aborts: AbortController[] = [];
  let firstBytes = 0;
  let refusals = 0;
  // Opened all at once, as 1,000 clients would. An opening that is not answered 200 (admission control is
  // off here, but a bound may refuse) comes back after its Retry-After, as the SDKs do; only 200s count.
  const opened = Array.from({ length: count }, async () => {
    const abort = new AbortController();
    aborts.push(abort);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await pool.request({
        method: 'POST',
        path: '/v1/responses',
        signal: abort.signal,
        headers,
        body: JSON.stringify({ model: 'mock-gpt', ...continued, input: 'Tell me a long story.', stream: true }),
      });
      if (response.statusCode !== 200) {
        refusals += 1;
        await response.body.dump();
        await new Promise((resolve) => setTimeout(resolve, 1000 * Number(response.headers['retry-after'] ?? 1)));
        continue;
      }
      const reader = response.body[Symbol.asyncIterator]();
      await reader.next();
      firstBytes += 1;
      response.body.on('error', () => undefined);
      return reader;
    }
    return undefined;
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(opened), new Promise((resolve) => (timer = setTimeout(resolve, 60_000)))]);
  clearTimeout(timer); // else it holds the process open for the rest of the 60 s
  const open = firstBytes;
  const bytes = await gateway.rssBytes();
  const fileBytes = await gateway.rssFileBytes();
  // Then each stream read to its end (the slow mock's answers take about 20 s): what the process keeps once a
  // burst of streams has come and gone, which is what a container's memory limit has to allow for.
  let finished = 0;
  const readToEnd = opened.map(async (opening) => {
    const reader = await opening;
    if (!reader) return;
    while (!(await reader.next()).done);
    finished += 1;
  });
  await Promise.race([Promise.allSettled(readToEnd), new Promise((resolve) => (timer = setTimeout(resolve, 120_000)))]);
  clearTimeout(timer);
  const finishedBytes = await gateway.rssBytes();
  aborts.forEach((abort) => abort.abort());
  await Promise.allSettled(readToEnd);
  await gateway.stop();
  await mock.stop();
  return {
    idle_bytes: idle,
    open_streams: open,
    open_streams_bytes: bytes,
    open_streams_file_bytes: fileBytes,
    finished_streams: finished,
    finished_bytes: finishedBytes,
    refused_then_retried: refusals,
  };
}

function rssLines(rss: Awaited<ReturnType<typeof rssProbes>>): string[] {
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const long = rss.long_history;
  return [
    `### RSS: ${mb(rss.open_streams_bytes)} MB with ${rss.open_streams} streams open (${mb(rss.idle_bytes)} MB idle; ` +
      `${mb(rss.open_streams_file_bytes)} MB of it pages of files, mostly the node binary's, shared between processes; ` +
      `${rss.refused_then_retried} opening attempts refused and retried after Retry-After); ` +
      `${mb(rss.finished_bytes)} MB once ${rss.finished_streams} of them had been read to their end`,
    '',
    `### RSS: ${mb(long.open_streams_bytes)} MB with ${long.streams} streams open on a ${long.history_kib} KiB history ` +
      `(${mb(long.idle_bytes)} MB idle: ${long.kib_per_stream} KiB per stream); ${mb(long.finished_bytes)} MB once ` +
      'they had ended',
    '',
  ];
}

main().catch((error: unknown) => {
  console.error('[bench] failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
