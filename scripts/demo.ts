/**
 * `npm run demo`: starts mock-llm and the gateway (built, against the local Redis and PostgreSQL)
 * on free ports, then holds a short scripted conversation through the official openai SDK.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import OpenAI from 'openai';

const ROOT = join(__dirname, '..');
const children: ChildProcess[] = [];
const logDir = mkdtempSync(join(tmpdir(), 'rsc-demo-'));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function start(name: string, entry: string, env: Record<string, string>): void {
  const log = createWriteStream(join(logDir, `${name}.log`));
  const child = spawn(process.execPath, [join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited unexpectedly (${code ?? signal}); see ${join(logDir, `${name}.log`)}`);
  });
  children.push(child);
}

async function waitForReady(url: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return (await response.json()) as Record<string, unknown>;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready; logs in ${logDir}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let stopping = false;
function stopAll(): void {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
}

function show(label: string, text: string): void {
  console.log(`\n${label}\n  ${text.replace(/\n/g, '\n  ')}`);
}

const DEMO_PREFIX = `rsc-demo-${process.pid}`;

/** Where the gateway found the turn's history: hit (Redis), partial, db (writer buffer / PostgreSQL), none. */
function source(headers: Headers): string {
  return headers.get('x-session-cache') ?? '?';
}

async function conversation(client: OpenAI, redisUrl: string): Promise<void> {
  const { data: first, response: r1 } = await client.responses
    .create({ model: 'mock-gpt', instructions: 'You are a terse assistant.', input: 'My name is Ada. Remember it.' })
    .withResponse();
  show(
    `Turn 1  ${first.id}  [history: ${source(r1.headers)}]  session ${r1.headers.get('x-session-id')}`,
    first.output_text,
  );

  const { data: second, response: r2 } = await client.responses
    .create({ model: 'mock-gpt', previous_response_id: first.id, input: 'What is my name?' })
    .withResponse();
  show(`Turn 2  continues turn 1  [history: ${source(r2.headers)}]`, second.output_text);

  const { data: stream, response: r3 } = await client.responses
    .create({ model: 'mock-gpt', previous_response_id: second.id, input: 'Say it again, slowly.', stream: true })
    .withResponse();
  process.stdout.write(`\nTurn 3  streamed, continues turn 2  [history: ${source(r3.headers)}]\n  `);
  let third = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') process.stdout.write(event.delta);
    if (event.type === 'response.completed') third = event.response.id;
  }
  console.log();

  const { data: fork, response: r4 } = await client.responses
    .create({ model: 'mock-gpt', previous_response_id: first.id, input: 'Forget that; what did I tell you first?' })
    .withResponse();
  show(`Fork    a second child of turn 1  [history: ${source(r4.headers)}]`, fork.output_text);

  // Evict this demo's keys (as a TTL expiry would) once the spend-log writer has flushed to PostgreSQL.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const redis = new Redis(redisUrl);
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${DEMO_PREFIX}:*`, count: 500 }))
    keys.push(...(batch as string[]));
  if (keys.length > 0) await redis.unlink(...keys);
  redis.disconnect();
  console.log(`\n(Redis forgot the session: ${keys.length} keys evicted)`);

  const { data: fourth, response: r5 } = await client.responses
    .create({ model: 'mock-gpt', previous_response_id: third, input: 'Still there?' })
    .withResponse();
  show(
    `Turn 4  continues turn 3  [history: ${source(r5.headers)}: rebuilt from PostgreSQL, Redis back-filled]`,
    fourth.output_text,
  );
  const { response: r6 } = await client.responses
    .create({ model: 'mock-gpt', previous_response_id: fourth.id, input: 'And now?' })
    .withResponse();
  show(`Turn 5  continues turn 4  [history: ${source(r6.headers)}]`, 'served from Redis again');

  const items = await client.responses.inputItems.list(fourth.id);
  show('Input items of turn 4', items.data.map((item) => JSON.stringify(item).slice(0, 100)).join('\n'));
  const fetched = await client.responses.retrieve(first.id);
  show(`Retrieved turn 1`, `status ${fetched.status}, ${fetched.usage?.total_tokens ?? 0} tokens`);
}

async function main(): Promise<void> {
  const [mockPort, gatewayPort] = [await freePort(), await freePort()];
  start('mock-llm', 'dist/apps/mock-llm/src/main.js', { MOCK_LLM_PORT: String(mockPort), MOCK_LLM_LATENCY_MS: '50' });
  start('gateway', 'dist/apps/gateway/src/main.js', {
    PORT: String(gatewayPort),
    HOST: '127.0.0.1',
    UPSTREAM_BASE_URL: `http://127.0.0.1:${mockPort}/v1`,
    REDIS_KEY_PREFIX: DEMO_PREFIX,
    SPEND_LOG_FLUSH_INTERVAL_MS: '1000',
  });
  const base = `http://127.0.0.1:${gatewayPort}`;
  await waitForReady(`http://127.0.0.1:${mockPort}/health`);
  const readiness = await waitForReady(`${base}/health/ready`);
  console.log(`Gateway ${base} (upstream mock-llm on :${mockPort}); readiness: ${JSON.stringify(readiness)}`);
  console.log(`Service logs: ${logDir}`);

  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-demo-key', maxRetries: 0 });
  await conversation(client, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
}

main()
  .then(() => {
    stopAll();
    console.log('\nDemo finished.');
  })
  .catch((error: unknown) => {
    stopAll();
    console.error('\nDemo failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
process.once('SIGINT', stopAll);
