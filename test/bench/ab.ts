/**
 * A/B of two (or more) builds of the gateway: CPU µs per request at saturation (64 closed-loop clients), new
 * conversations and warm 10-turn chains, next to the Nest floor, in interleaved rounds of random order on the
 * same Redis, PostgreSQL and mock. For a change worth less than the full run's noise (±15–25% per segment):
 * same-build A/A runs here differ by about ±5% over 5 rounds.
 *
 *   cp -r dist /tmp/build-a   (then change, npm run build, cp -r dist /tmp/build-b)
 *   npm run bench:ab -- /tmp/build-a /tmp/build-b [--rounds=5] [--seconds=5] [--alloc]
 *
 * A build may carry settings after `@` (`/tmp/build-a@LOG_LEVEL=warn,DURABLE_JOURNAL=false`) and Node options
 * after `+` (`/tmp/build-a+--max-semi-space-size=16`). `--alloc`: each gateway, and each floor to compare against,
 * also samples what it allocates during a second warm-up (V8's sampling heap profiler, collected objects included)
 * and prints the KB allocated per request, by package and by function. Processes' logs and the report go to
 * bench-results/ab-<run>/.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { freePort } from '../support/redis-server';
import { createDatabase, deleteKeys, dropDatabase, migrate, withDatabase } from '../setup/test-services';
import { allocationLines } from './allocation-summary';
import { BENCH_KEY, chatMessagesForChain, continuing, seedChainsFor } from './fixtures';
import { closePools, saturate, shuffled, Target } from './load';
import { BenchProcess, benchGatewayEnv, ENTRY } from './processes';

const option = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const BUILDS = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const ROUNDS = Number(option('rounds') ?? 5);
const SEGMENT_MS = Number(option('seconds') ?? 5) * 1000;
const ALLOC = process.argv.includes('--alloc');
const CONCURRENCY = 64;
const WARM_UP_MS = 3000;
/** More warm turns per second than a gateway manages here (sizes the seeded chains). */
const SATURATION_CEILING = 3000;
const KINDS = ['new', 'warm'] as const;

interface Build {
  label: string;
  process: BenchProcess;
  origin: string;
}

/** `dir[@NAME=value,…][+node-option…]`. */
function parseBuild(spec: string): { dir: string; env: Record<string, string>; nodeOptions: string[] } {
  const [withEnv = '', ...nodeOptions] = spec.split('+');
  const [dir = '', settings = ''] = withEnv.split('@');
  const env = Object.fromEntries(
    settings
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  return { dir, env, nodeOptions };
}

async function main(): Promise<void> {
  if (BUILDS.length === 0) throw new Error('usage: npm run bench:ab -- <build dir> [<build dir> …] [--rounds=N]');
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const outDir = join(__dirname, '..', '..', 'bench-results', `ab-${runId}`);
  mkdirSync(outDir, { recursive: true });
  const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const database = `rsc_ab_${runId}`;
  const databaseUrl = withDatabase(adminUrl, database);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `rsc-ab-${runId}`;
  await createDatabase(adminUrl, database);
  const processes: BenchProcess[] = [];
  try {
    await migrate(databaseUrl);
    const [mockPort, nestPort] = [await freePort(), await freePort()];
    const mockEnv = { MOCK_LLM_PORT: String(mockPort), MOCK_LLM_LATENCY_MS: '20' };
    processes.push(BenchProcess.start('mock-llm', ENTRY.mock, mockEnv, outDir));
    const nestEnv = { FLOOR_PORT: String(nestPort), FLOOR_UPSTREAM: `http://127.0.0.1:${mockPort}` };
    // With --alloc every process in front samples what it allocates, the floors too (to compare against).
    const preload = ALLOC ? ['--require', join(__dirname, 'allocation-sampling.js')] : [];
    const sampled: Record<string, string> = ALLOC ? { ALLOCATION_PROFILE_DIR: outDir } : {};
    const nest = BenchProcess.start('nest-floor', [...preload, ...ENTRY.nestFloor], { ...nestEnv, ...sampled }, outDir);
    processes.push(nest);
    const ioPort = await freePort();
    const ioEnv = { FLOOR_PORT: String(ioPort), FLOOR_UPSTREAM: nestEnv.FLOOR_UPSTREAM, REDIS_KEY_PREFIX: prefix };
    const io = BenchProcess.start(
      'io-floor',
      [...preload, ...ENTRY.ioFloor],
      { ...ioEnv, ...sampled, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
      outDir,
    );
    processes.push(io);
    const env = {
      ...benchGatewayEnv({ mockPort, databaseUrl, redisUrl, prefix }),
      // Refusals would bias CPU per answered request; this compares work per turn.
      OVERLOAD_QUEUE_TARGET_MS: '0',
      ...sampled,
    };
    const builds: Build[] = [];
    for (const [index, spec] of BUILDS.entries()) {
      const { dir, env: settings, nodeOptions } = parseBuild(spec);
      const port = await freePort();
      const args = [...nodeOptions, ...preload, join(dir, 'apps/gateway/src/main.js')];
      const started = BenchProcess.start(`gateway-${index}`, args, { ...env, ...settings, PORT: String(port) }, outDir);
      processes.push(started);
      builds.push({ label: spec, process: started, origin: `http://127.0.0.1:${port}` });
    }
    await nest.waitForHttp(`http://127.0.0.1:${nestPort}/health`);
    await io.waitForHttp(`http://127.0.0.1:${ioPort}/health`);
    for (const build of builds) await build.process.waitForHttp(`${build.origin}/health/ready`);

    // Each warm turn continues a chain at most ~20 times, as in the full run.
    const config = new AppConfig({ ...process.env, ...env, PORT: '1' });
    const warmUpPasses = ALLOC ? 2 : 1;
    const warmSeconds = (ROUNDS * SEGMENT_MS + warmUpPasses * WARM_UP_MS) / 1000;
    const warmTurns = (builds.length + 1) * warmSeconds * SATURATION_CEILING;
    const heads = await seedChainsFor(config, Math.ceil(warmTurns / 20), 10, true);
    const auth = { authorization: `Bearer ${BENCH_KEY}` };
    const nestOrigin = `http://127.0.0.1:${nestPort}`;
    const ioOrigin = `http://127.0.0.1:${ioPort}`;
    const chat = (messages: unknown) => JSON.stringify({ model: 'mock-gpt', messages });
    const oneTurn = chat([{ role: 'user', content: 'Hello! What can you do?' }]);
    const tenTurns = chat(chatMessagesForChain(10));
    const newTurn = JSON.stringify({ model: 'mock-gpt', input: 'Hello! What can you do?' });
    const warmTurn = continuing(heads);
    const segments: Array<{ key: string; process: BenchProcess; target: Target }> = [
      {
        key: 'nest new',
        process: nest,
        target: { origin: nestOrigin, path: '/v1/chat/completions', headers: auth, body: () => oneTurn },
      },
      {
        key: 'nest warm',
        process: nest,
        target: { origin: nestOrigin, path: '/v1/chat/completions', headers: auth, body: () => tenTurns },
      },
      {
        key: 'io new',
        process: io,
        target: { origin: ioOrigin, path: '/v1/responses', headers: auth, body: () => newTurn },
      },
      {
        key: 'io warm',
        process: io,
        target: { origin: ioOrigin, path: '/v1/responses', headers: auth, body: warmTurn },
      },
      ...builds.flatMap((build) => [
        {
          key: `${build.label} new`,
          process: build.process,
          target: { origin: build.origin, path: '/v1/responses', headers: auth, body: () => newTurn },
        },
        {
          key: `${build.label} warm`,
          process: build.process,
          target: { origin: build.origin, path: '/v1/responses', headers: auth, body: warmTurn },
        },
      ]),
    ];
    // Warm-up (V8 optimises the hot paths first); with --alloc, a second pass samples the allocations of each
    // process in front (the profiler costs CPU the measured rounds must not see).
    const allocations: string[] = [];
    for (const sampling of [false, true].slice(0, warmUpPasses)) {
      for (const segment of segments) {
        if (sampling) segment.process.child.kill('SIGUSR2');
        const result = await saturate(segment.target, CONCURRENCY, WARM_UP_MS);
        if (sampling) {
          segment.process.child.kill('SIGUSR2');
          const file = join(outDir, `${segment.process.child.pid}.heapprofile`);
          allocations.push(`#### ${segment.key}`, ...(await allocationLines(file, result.ok)), '');
        }
      }
    }

    const cpu = new Map<string, number[]>();
    const answered = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const segment of shuffled(segments)) {
        await segment.process.settle();
        const before = await segment.process.cpuSeconds();
        const result = await saturate(segment.target, CONCURRENCY, SEGMENT_MS);
        cpu.set(segment.key, [...(cpu.get(segment.key) ?? []), (await segment.process.cpuSeconds()) - before]);
        answered.set(segment.key, [...(answered.get(segment.key) ?? []), result.ok]);
        if (result.errors > 0) process.stderr.write(`${segment.key}: ${result.errors} errors\n`);
      }
      process.stderr.write(`round ${round + 1} of ${ROUNDS} done\n`);
    }
    const micros = (key: string, round?: number) => {
      const seconds = cpu.get(key) ?? [];
      const ok = answered.get(key) ?? [];
      if (round !== undefined) return (1e6 * (seconds[round] ?? 0)) / (ok[round] ?? 1);
      return (1e6 * seconds.reduce((a, b) => a + b, 0)) / ok.reduce((a, b) => a + b, 0);
    };
    const lines = [
      '| build | turns | CPU µs per request | vs Nest floor | rounds vs Nest floor | vs first build |',
      '|---|---|---:|---:|---|---:|',
    ];
    for (const kind of KINDS) {
      const floor = micros(`nest ${kind}`);
      lines.push(`| Nest floor | ${kind} | ${floor.toFixed(0)} | 1 | | |`);
      const ioFloor = micros(`io ${kind}`);
      const ioRounds = Array.from({ length: ROUNDS }, (_, round) =>
        (micros(`io ${kind}`, round) / micros(`nest ${kind}`, round)).toFixed(2),
      );
      lines.push(
        `| I/O floor | ${kind} | ${ioFloor.toFixed(0)} | ${(ioFloor / floor).toFixed(2)}× | ${ioRounds.join(', ')} | |`,
      );
      for (const build of builds) {
        const key = `${build.label} ${kind}`;
        const rounds = Array.from({ length: ROUNDS }, (_, round) =>
          (micros(key, round) / micros(`nest ${kind}`, round)).toFixed(2),
        );
        const first = micros(`${builds[0]?.label} ${kind}`);
        lines.push(
          `| ${build.label} | ${kind} | ${micros(key).toFixed(0)} | ${(micros(key) / floor).toFixed(2)}× | ${rounds.join(', ')} | ${(micros(key) / first).toFixed(3)} |`,
        );
      }
    }
    const report = [...lines, '', ...allocations].join('\n');
    writeFileSync(join(outDir, 'report.md'), `${report}\n`);
    console.log(`${report}\n(also in ${join(outDir, 'report.md')})`);
  } finally {
    await closePools();
    for (const started of processes) await started.stop();
    await dropDatabase(adminUrl, database).catch(() => undefined);
    await deleteKeys(redisUrl, prefix).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
